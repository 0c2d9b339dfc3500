package postgres_test

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/model"
)

// storedTrail is what EachStoredAudit walks over s, each item copied.
func storedTrail(t *testing.T, s db.Store) ([]chain.Stored, error) {
	t.Helper()
	var got []chain.Stored
	err := s.Snapshot(t.Context(), func(snap db.Snapshot) error {
		return snap.(db.StoredAuditWalker).EachStoredAudit(t.Context(), func(st *chain.Stored) error {
			got = append(got, chain.Stored{Seq: st.Seq, Prefix: st.Prefix, ID: slices.Clone(st.ID), Fields: slices.Clone(st.Fields),
				PrevHash: slices.Clone(st.PrevHash), Hash: slices.Clone(st.Hash)})
			return nil
		})
	})
	return got, err
}

// eventTrail is what EachAudit walks over s.
func eventTrail(t *testing.T, s db.Store) []model.AuditEvent {
	t.Helper()
	var es []model.AuditEvent
	err := s.Snapshot(t.Context(), func(snap db.Snapshot) error {
		return snap.EachAudit(t.Context(), func(e model.AuditEvent) error { es = append(es, e); return nil })
	})
	if err != nil {
		t.Fatalf("EachAudit: %v", err)
	}
	return es
}

// TestStoredWalkOfOddRows: rows written around the store, with values its
// writes never make but the columns allow (empty arrays, an empty entity
// id and detail, times before PostgreSQL's epoch and outside four-digit
// years, hashes of the wrong length, events outside the chain), encode in
// the stored walk as in the walk of events, including on a connection
// whose URL asks for the simple protocol (text results). The
// conformance suite's StoredWalkAgreesWithEachAudit covers the rows the
// store writes.
func TestStoredWalkOfOddRows(t *testing.T) {
	s, url := openStore(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	hash := func(b byte) []byte { return slices.Repeat([]byte{b}, chain.Size) }
	token, actor := uuid.NewString(), uuid.NewString()
	rows := []struct {
		at, entityID, detail, records, subjects, token, actor any
		seq                                                   any
		prev, hash                                            any
	}{
		{"1999-12-31 23:59:59.999999+00", "", "", "{}", "{}", nil, actor, 1, hash(0), hash(1)},
		{"2000-01-01 00:00:00+00", nil, nil, nil, nil, token, nil, 2, hash(1), hash(2)},
		{"9999-12-31 23:59:59.999999+00", "not-a-uuid", `{"q":"Zoë \"x\""}`, "{" + uuid.NewString() + "}", "{" + actor + "," + actor + "}", token, actor, 3, hash(2), []byte{1, 2, 3}},
		{"0044-03-15 12:00:00+00 BC", "x", "{}", nil, "{" + actor + "}", nil, actor, 4, []byte{}, hash(4)},
		{"1970-01-01 00:00:00.000001+00", nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{"2026-03-14 09:26:53.589793+05:30", "e", nil, "{" + uuid.NewString() + "," + uuid.NewString() + "}", nil, nil, nil, nil, nil, hash(9)},
	}
	for _, r := range rows {
		if _, err := conn.Exec(ctx, `INSERT INTO audit_events (id, at, actor_id, action, entity, entity_id, ip, detail, record_ids, via, subject_ids, seq, prev_hash, hash, token_id)
			VALUES ($1, $2::timestamptz, $3, 'record.read', 'record', $4, '::1', $5, $6::uuid[], 'api', $7::uuid[], $8, $9, $10, $11)`,
			uuid.NewString(), r.at, r.actor, r.entityID, r.detail, r.records, r.subjects, r.seq, r.prev, r.hash, r.token); err != nil {
			t.Fatalf("insert %v: %v", r.at, err)
		}
	}

	want := eventTrail(t, s)
	if len(want) != len(rows) {
		t.Fatalf("EachAudit walked %d events, want %d", len(want), len(rows))
	}
	simple, err := postgres.Open(ctx, postgres.Options{URL: url + "&default_query_exec_mode=simple_protocol"})
	if err != nil {
		t.Fatal(err)
	}
	defer simple.Close()
	for name, store := range map[string]db.Store{"store": s, "simple protocol": simple} {
		got, err := storedTrail(t, store)
		if err != nil {
			t.Fatalf("%s: EachStoredAudit: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: EachStoredAudit walked %d events, EachAudit %d", name, len(got), len(want))
		}
		for i, e := range want {
			g := got[i]
			if g.Seq != e.Seq || g.Prefix != chain.PrefixOf(e) || string(g.ID) != e.ID || hex.EncodeToString(g.PrevHash) != e.PrevHash || hex.EncodeToString(g.Hash) != e.Hash {
				t.Errorf("%s: event %d: stored seq %d prefix %q id %s prev %x hash %x; EachAudit %+v", name, i, g.Seq, g.Prefix, g.ID, g.PrevHash, g.Hash, e)
			}
			if fields := chain.EncodeFields(nil, e); !slices.Equal(g.Fields, fields) {
				t.Errorf("%s: event %d (%s, at %v): stored fields\n%q\nEncodeFields\n%q", name, i, e.ID, e.At, g.Fields, fields)
			}
		}
	}
	// Absent and empty differ where the encoding tells them apart.
	if e := want[0]; e.EntityID == nil || *e.EntityID != "" || e.Detail == nil || e.RecordIDs == nil {
		t.Errorf("the first row read back as %+v", e)
	}
}

// TestStoredWalkRefusesUnreadableRows: a row whose id lists the walk of
// events could not read either stops the stored walk with an error naming
// the event, rather than encoding something else.
func TestStoredWalkRefusesUnreadableRows(t *testing.T) {
	for _, tc := range []struct{ name, records, want string }{
		{"two dimensions", "{{" + uuid.NewString() + "},{" + uuid.NewString() + "}}", "record ids: array of 2 dimensions"},
		{"a NULL element", "{" + uuid.NewString() + ",NULL}", "record ids: array of 2 elements in 24 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, url := openStore(t)
			ctx := t.Context()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.WithoutCancel(ctx))
			id := uuid.NewString()
			if _, err := conn.Exec(ctx, `INSERT INTO audit_events (id, at, action, entity, ip, via, record_ids) VALUES ($1, now(), 'record.list', 'record', '', 'api', $2::uuid[])`, id, tc.records); err != nil {
				t.Fatal(err)
			}
			_, err = storedTrail(t, s)
			if err == nil || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("EachStoredAudit: %v; want an error naming %s and %q", err, id, tc.want)
			}
		})
	}
}
