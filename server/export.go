package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/export"
	"github.com/anavara/anavara/model"
)

// exportMe streams the caller's data (FHIR R4 NDJSON, or CSV).
func (s *Server) exportMe(c *fiber.Ctx) error {
	return s.exportPerson(c, currentUser(c).User)
}

// exportUser streams one person's data to staff, or to the person.
func (s *Server) exportUser(c *fiber.Ctx) error {
	u, err := s.findUser(c, s.db.Read())
	if err != nil {
		return err
	}
	return s.exportPerson(c, u)
}

// exportPerson audits the export of u's data, committed before any of it
// is sent, and streams it from one snapshot.
func (s *Server) exportPerson(c *fiber.Ctx, u model.User) error {
	format := "fhir"
	if args := c.Context().QueryArgs(); args.Has("format") {
		// Present but empty is no format either.
		format = string(args.Peek("format"))
	}
	var write func(ctx context.Context, snap db.Snapshot, w io.Writer) error
	var mediaType, ext string
	switch format {
	case "fhir":
		mediaType, ext = export.MediaTypeNDJSON, "ndjson"
		write = func(ctx context.Context, snap db.Snapshot, w io.Writer) error {
			_, err := export.Person(ctx, snap, u.ID, w)
			return err
		}
	case "csv":
		mediaType, ext = export.MediaTypeCSV, "csv"
		write = func(ctx context.Context, snap db.Snapshot, w io.Writer) error {
			_, err := export.PersonCSV(ctx, snap, u.ID, w)
			return err
		}
	default:
		return fieldError("format", `Must be "fhir" or "csv".`)
	}
	e := s.auditEvent(c, currentUser(c).ID, model.ActionUserExport, model.EntityUser, u.ID, u.ID)
	if err := s.commitAudit(c, e); err != nil {
		return err
	}
	// Attachment sets a Content-Type from the name's extension, which
	// knows nothing of NDJSON: ours goes after it.
	c.Attachment(fmt.Sprintf("anavara-export-%s.%s", u.ID, ext))
	c.Set(fiber.HeaderContentType, mediaType)
	s.stream(c, write)
	return nil
}

// exportPopulation streams the whole database to staff as a zip archive of
// the FHIR Bulk Data files and their manifest.
func (s *Server) exportPopulation(c *fiber.Ctx) error {
	e := s.auditEvent(c, currentUser(c).ID, model.ActionPopulationExport, model.EntityDatabase, "")
	if err := s.commitAudit(c, e); err != nil {
		return err
	}
	c.Attachment(fmt.Sprintf("anavara-export-%s.zip", e.At.UTC().Format("20060102T150405Z")))
	c.Set(fiber.HeaderContentType, "application/zip")
	request := c.Method() + " " + c.Path()
	s.stream(c, func(ctx context.Context, snap db.Snapshot, w io.Writer) error {
		zs := export.NewZipSink(w, snap.At())
		if _, err := export.Population(ctx, snap, zs, request, nil); err != nil {
			return err
		}
		return zs.Close()
	})
	return nil
}

// commitAudit writes e in a transaction of its own: an export is audited
// before the first byte of it leaves.
func (s *Server) commitAudit(c *fiber.Ctx, e model.AuditEvent) error {
	ctx := c.UserContext()
	return s.db.Write(ctx, func(q db.Tx) error { return q.InsertAudit(ctx, e) })
}

// stream sends the body write makes from one snapshot, as it is made. The
// body is written after the handler has returned and Fiber has taken back
// c, so nothing of c is used inside; Shutdown waits for the stream and
// ends it. A failure once the status is sent can only cut the body short:
// it is logged, and the client sees a truncated file (an archive without
// its directory, NDJSON without its last lines).
func (s *Server) stream(c *fiber.Ctx, write func(ctx context.Context, snap db.Snapshot, w io.Writer) error) {
	release, stopping := s.requests.hold()
	id, method, path := requestID(c), c.Method(), c.Path()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := s.db.Snapshot(ctx, func(snap db.Snapshot) error {
			if err := write(ctx, snap, w); err != nil {
				return err
			}
			return w.Flush()
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			s.cfg.Logger.Error("export failed", "request_id", id, "method", method, "path", path, "error", err)
			s.db.Observe(err)
		}
	})
}
