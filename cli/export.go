package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/export"
	"github.com/anavara/anavara/model"
)

// exportFlags configure anavara export.
type exportFlags struct {
	store storeFlags
	out   string
}

func newExportCommand(streams Streams) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export --out DIR",
		Short: "Export the whole database as FHIR R4 NDJSON, even while the server runs",
		Long: "Write the whole database to DIR as FHIR R4 NDJSON, laid out as FHIR Bulk Data\n" +
			"(https://hl7.org/fhir/uv/bulkdata/): Patient.ndjson, Condition.ndjson,\n" +
			"Procedure.ndjson, AuditEvent.ndjson and manifest.json (counts, the snapshot's\n" +
			"time, the audit chain's head). Everything comes from one snapshot, so a running\n" +
			"server keeps answering and writing meanwhile. DIR must be new or empty; it is\n" +
			"created readable by its owner only, and manifest.json, written last, marks a\n" +
			"complete export. The export is audited, and shows in every patient's access log.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExport(cmd, f, streams)
		},
	}
	fs := cmd.Flags()
	f.store.register(fs)
	fs.StringVar(&f.out, "out", "", "directory to write the export to; must be new or empty (required)")
	return cmd
}

func runExport(cmd *cobra.Command, f exportFlags, streams Streams) error {
	if f.out == "" {
		return errors.New("--out names the directory to write the export to")
	}
	out, err := filepath.Abs(f.out)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	store, _, err := f.store.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	sink, err := export.NewDirSink(out)
	if err != nil {
		return err
	}
	// Audited before a byte is written, as the API audits its exports: by
	// no account, from this host.
	e := auth.NewAuditEvent(time.Now().UTC(), "local", "", model.ActionPopulationExport, model.EntityDatabase, "")
	e.Via = model.ViaCLI
	if err := store.Write(ctx, func(q db.Tx) error { return q.InsertAudit(ctx, e) }); err != nil {
		sink.Abort()
		return fmt.Errorf("audit the export: %w", err)
	}
	report := newExportReport(streams.Out)
	var m export.Manifest
	err = store.Snapshot(ctx, func(snap db.Snapshot) error {
		var err error
		m, err = export.Population(ctx, snap, sink, "anavara export", report.progress)
		return err
	})
	if err == nil {
		err = sink.Finish()
	}
	if err != nil {
		report.abort()
		sink.Abort()
		return err
	}
	head := m.AuditHead.HeadHash
	fmt.Fprintf(streams.Out, "export of the snapshot at %s written to %s (audit head %d %s)\n",
		m.TransactionTime.UTC().Format(time.RFC3339), out, m.AuditHead.Count, head)
	return nil
}

// exportReport shows an export's progress: a bar redrawn in place on a
// terminal, one line per finished file otherwise (a log, a pipe).
type exportReport struct {
	w        io.Writer
	terminal bool
	drawn    time.Time
	open     bool
}

func newExportReport(w io.Writer) *exportReport {
	f, ok := w.(*os.File)
	return &exportReport{w: w, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

// redraw bounds how often the bar is drawn: a terminal need not see every
// batch.
const redraw = 100 * time.Millisecond

func (r *exportReport) progress(p export.Progress) {
	if !r.terminal {
		if p.Finished {
			fmt.Fprintf(r.w, "%-18s %d resources\n", p.File, p.Done)
		}
		return
	}
	if !p.Finished && time.Since(r.drawn) < redraw {
		return
	}
	r.drawn = time.Now()
	fmt.Fprintf(r.w, "\r%s", progressLine(p))
	r.open = true
	if p.Finished {
		fmt.Fprintln(r.w)
		r.open = false
	}
}

// abort ends a bar left mid-line, so the error prints on a line of its own.
func (r *exportReport) abort() {
	if r.open {
		fmt.Fprintln(r.w)
	}
}

// barWidth is the bar's width in cells; the line fits 80 columns.
const barWidth = 30

// progressLine is one redraw of the bar: the file, the bar, the share
// done and the resource counts. The total is the count when the file
// began, and the done count can exceed it by nothing: both come from one
// snapshot.
func progressLine(p export.Progress) string {
	frac := 1.0
	if p.Total > 0 {
		frac = min(float64(p.Done)/float64(p.Total), 1)
	}
	full := int(frac * barWidth)
	bar := strings.Repeat("█", full) + strings.Repeat("░", barWidth-full)
	return fmt.Sprintf("%-18s %s %3d%% %d/%d", p.File, bar, int(frac*100), p.Done, p.Total)
}
