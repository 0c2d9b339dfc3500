package dbtest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// chainOf walks the trail in chain order in a snapshot.
func chainOf(t *testing.T, s db.Store) []model.AuditEvent {
	t.Helper()
	var es []model.AuditEvent
	err := s.Snapshot(t.Context(), func(snap db.Snapshot) error {
		return snap.EachAudit(t.Context(), func(e model.AuditEvent) error {
			es = append(es, e)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("EachAudit: %v", err)
	}
	return es
}

// CheckLinks fails t unless es, in chain order, are linked 1..len(es):
// each event's seq its position, its prev_hash the hash before it
// (chain.Genesis first) and its hash the encoding's over its fields. It
// returns the last hash. The engines' migration tests use it too.
func CheckLinks(t testing.TB, es []model.AuditEvent) [chain.Size]byte {
	t.Helper()
	prev := chain.Genesis
	for i, e := range es {
		want := chain.Hash(int64(i+1), e, prev)
		if e.Seq != int64(i+1) || e.PrevHash != chain.Hex(prev) || e.Hash != chain.Hex(want) {
			t.Fatalf("event %d (%s): seq %d prev %s hash %s; want seq %d prev %x hash %x", i, e.ID, e.Seq, e.PrevHash, e.Hash, i+1, prev, want)
		}
		prev = want
	}
	return prev
}

// checkChain fails the test unless es are linked (CheckLinks) and the
// store's head is the last of them.
func checkChain(t *testing.T, s db.Store, es []model.AuditEvent) {
	t.Helper()
	last := CheckLinks(t, es)
	head, err := s.Read().AuditHead(t.Context())
	if err != nil {
		t.Fatalf("AuditHead: %v", err)
	}
	if head.Count != int64(len(es)) || head.HeadHash != chain.Hex(last) {
		t.Fatalf("head %+v, want count %d hash %x", head, len(es), last)
	}
	if len(es) > 0 && (head.At == nil || !sameTime(*head.At, es[len(es)-1].At)) {
		t.Fatalf("head at %v, want %v", head.At, es[len(es)-1].At)
	}
}

var auditChainTests = []test{
	{"EmptyHead", func(t *testing.T, s db.Store) {
		head, err := s.Read().AuditHead(t.Context())
		if err != nil || head.Count != 0 || head.HeadHash != chain.GenesisHex || head.At != nil {
			t.Fatalf("AuditHead of an empty trail = %+v, %v", head, err)
		}
	}},
	{"LinksEveryEventInAppendOrder", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "chain@example.org")
		rec := uuid.NewString()
		ev := func(d time.Duration, action string) model.AuditEvent {
			return model.AuditEvent{ID: uuid.NewString(), At: at(d), ActorID: &u.ID, Action: action, Entity: model.EntityRecord, EntityID: &rec, IP: "192.0.2.1", Via: model.ViaSSH, SubjectIDs: []string{u.ID}}
		}
		// Times out of order: the chain is the order of appending.
		first := []model.AuditEvent{ev(5*time.Second, model.ActionRecordRead), ev(time.Second, model.ActionRecordUpdate)}
		list := ev(3*time.Second, model.ActionRecordList)
		list.EntityID, list.Detail, list.RecordIDs, list.SubjectIDs = nil, []byte(`{"page":1}`), []string{rec, uuid.NewString()}, []string{u.ID, u.ID}
		insertEvents(t, s, first...)
		write(t, s, func(tx db.Tx) error {
			return tx.InsertAudits(ctx, []model.AuditEvent{list, ev(2*time.Second, model.ActionRecordDelete)})
		})
		// Seq, hashes and a stale head passed in are the store's to fill.
		odd := ev(4*time.Second, model.ActionRecordRead)
		odd.Seq, odd.PrevHash, odd.Hash, odd.Via = 99, "x", "y", ""
		insertEvents(t, s, odd)
		es := chainOf(t, s)
		if len(es) != 5 {
			t.Fatalf("%d events in the chain, want 5", len(es))
		}
		for i, id := range []string{first[0].ID, first[1].ID, list.ID} {
			if es[i].ID != id {
				t.Fatalf("chain position %d holds %s, want %s", i+1, es[i].ID, id)
			}
		}
		checkChain(t, s, es)
		if got := es[2]; !slices.Equal(got.SubjectIDs, list.SubjectIDs) || !slices.Equal(got.RecordIDs, list.RecordIDs) || got.Via != model.ViaSSH {
			t.Errorf("list event read back as %+v", got)
		}
		if es[4].Via != model.ViaAPI {
			t.Errorf("an event without via stored via %q, want %q", es[4].Via, model.ViaAPI)
		}
		// ListAudit shows the same links.
		page, _, err := s.Read().ListAudit(ctx, db.AuditFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			i := slices.IndexFunc(es, func(c model.AuditEvent) bool { return c.ID == e.ID })
			if i < 0 || e.Seq != es[i].Seq || e.Hash != es[i].Hash || e.PrevHash != es[i].PrevHash {
				t.Errorf("ListAudit shows %s at seq %d hash %s; the chain %+v", e.ID, e.Seq, e.Hash, es[i])
			}
		}
	}},
	{"TokenEventsEncodedV2", func(t *testing.T, s db.Store) {
		// Events of requests an API token authenticated carry its id,
		// stored and read back, and are linked with encoding version 2
		// (chain.PrefixOf) among version 1 events, in one chain: the
		// engine that hashes in the database (PostgreSQL) must put the
		// event's own prefix first, as chain.Encode does.
		ctx := t.Context()
		u := createUser(t, s, "token-chain@example.org")
		k := newAPIToken(u.ID, at(0), model.ScopeRecordsRead)
		createAPIToken(t, s, k)
		rec := uuid.NewString()
		ev := func(d time.Duration, token *string) model.AuditEvent {
			return model.AuditEvent{ID: uuid.NewString(), At: at(d), ActorID: &u.ID, Action: model.ActionRecordRead, Entity: model.EntityRecord,
				EntityID: &rec, IP: "192.0.2.1", SubjectIDs: []string{u.ID}, TokenID: token}
		}
		plain, first, second, third := ev(time.Second, nil), ev(2*time.Second, &k.ID), ev(3*time.Second, &k.ID), ev(4*time.Second, nil)
		list := ev(5*time.Second, &k.ID)
		list.Action, list.EntityID, list.Detail, list.RecordIDs = model.ActionRecordList, nil, []byte(`{"page":1}`), []string{rec}
		insertEvents(t, s, plain, first)
		write(t, s, func(tx db.Tx) error { return tx.InsertAudits(ctx, []model.AuditEvent{second, third, list}) })
		es := chainOf(t, s)
		if len(es) != 5 {
			t.Fatalf("%d events in the chain, want 5", len(es))
		}
		checkChain(t, s, es)
		for i, want := range []*string{nil, &k.ID, &k.ID, nil, &k.ID} {
			got := es[i].TokenID
			if (got == nil) != (want == nil) || got != nil && *got != *want {
				t.Errorf("event %d token %v, want %v", i+1, got, want)
			}
		}
		// Version 2 hashes differ from what version 1 would give.
		prev, _ := chain.Parse(es[0].Hash)
		v1 := es[1]
		v1.TokenID = nil
		if es[1].Hash == chain.Hex(chain.Hash(2, v1, prev)) {
			t.Error("a token event hashed as version 1")
		}
		page, _, err := s.Read().ListAudit(ctx, db.AuditFilter{EntityID: rec, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		withToken := 0
		for _, e := range page {
			if e.TokenID != nil && *e.TokenID == k.ID {
				withToken++
			}
		}
		if withToken != 3 {
			t.Errorf("ListAudit shows %d events with the token, want 3", withToken)
		}
	}},
	{"RolledBackEventsLeaveNoGap", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "rollback@example.org")
		ev := func() model.AuditEvent {
			return model.AuditEvent{ID: uuid.NewString(), At: at(time.Second), ActorID: &u.ID, Action: model.ActionLogin, Entity: model.EntityUser, EntityID: &u.ID, IP: "192.0.2.1"}
		}
		insertEvents(t, s, ev())
		failed := errors.New("changed my mind")
		if err := s.Write(ctx, func(tx db.Tx) error {
			if err := tx.InsertAudit(ctx, ev()); err != nil {
				return err
			}
			return failed
		}); !errors.Is(err, failed) {
			t.Fatalf("Write = %v", err)
		}
		insertEvents(t, s, ev())
		checkChain(t, s, chainOf(t, s))
	}},
	{"OneOrderUnderConcurrentWriters", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "writers@example.org")
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					e := model.AuditEvent{ID: uuid.NewString(), At: at(time.Duration(w*each+i) * time.Millisecond), ActorID: &u.ID, Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: ptr(uuid.NewString()), IP: "192.0.2.1", SubjectIDs: []string{u.ID}}
					write := func() error {
						return s.Write(ctx, func(tx db.Tx) error {
							if i%2 == 0 {
								return tx.InsertAudits(ctx, []model.AuditEvent{e})
							}
							return tx.InsertAudit(ctx, e)
						})
					}
					if i%3 == 2 {
						// The audit writer's way, beside the others.
						write = func() error { return s.AppendAudits(ctx, []model.AuditEvent{e}) }
					}
					if err := write(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		es := chainOf(t, s)
		if len(es) != writers*each {
			t.Fatalf("%d events in the chain, want %d", len(es), writers*each)
		}
		checkChain(t, s, es)
	}},
	storedWalkTest,
}

// storedWalkTest checks a snapshot's EachStoredAudit, where the engine has
// one (db.StoredAuditWalker), against its EachAudit: the same events in
// the same order, each with the fields chain.EncodeFields encodes.
var storedWalkTest = test{"StoredWalkAgreesWithEachAudit", func(t *testing.T, s db.Store) {
	ctx := t.Context()
	u, v := createUser(t, s, "stored@example.org"), createUser(t, s, "walk@example.org")
	rec, rec2 := uuid.NewString(), uuid.NewString()
	read := model.AuditEvent{ID: uuid.NewString(), At: at(time.Second), ActorID: &u.ID, Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &rec, IP: "192.0.2.1", Via: model.ViaSSH, SubjectIDs: []string{u.ID}}
	anonymous := model.AuditEvent{ID: uuid.NewString(), At: at(2 * time.Second), Action: model.ActionLoginFailed, Entity: model.EntityUser, IP: "2001:db8::1"}
	// Records of two owners: subjects stored by record on SQLite.
	list := model.AuditEvent{ID: uuid.NewString(), At: at(3*time.Second + time.Microsecond), ActorID: &v.ID, Action: model.ActionRecordList, Entity: model.EntityRecord, IP: "192.0.2.2",
		Detail: []byte(`{"page":1,"page_size":20}`), RecordIDs: []string{rec, rec2, uuid.NewString()}, SubjectIDs: []string{u.ID, v.ID, u.ID}}
	// Records without subjects, and subjects without records.
	bare := model.AuditEvent{ID: uuid.NewString(), At: at(4 * time.Second), ActorID: &v.ID, Action: model.ActionRecordList, Entity: model.EntityRecord, IP: "192.0.2.3", RecordIDs: []string{rec2}}
	account := model.AuditEvent{ID: uuid.NewString(), At: at(5 * time.Second), ActorID: &v.ID, Action: model.ActionUserUpdate, Entity: model.EntityUser, EntityID: &u.ID, IP: "", Via: model.ViaCLI, Detail: []byte(`{}`), SubjectIDs: []string{u.ID, v.ID}}
	// A request an API token authenticated: version 2.
	token := uuid.NewString()
	scripted := model.AuditEvent{ID: uuid.NewString(), At: at(6 * time.Second), ActorID: &u.ID, Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &rec, IP: "192.0.2.4", SubjectIDs: []string{u.ID}, TokenID: &token}
	insertEvents(t, s, read, anonymous)
	write(t, s, func(tx db.Tx) error { return tx.InsertAudits(ctx, []model.AuditEvent{list, bare, account, scripted}) })

	want := chainOf(t, s)
	var got []chain.Stored
	walked := false
	err := s.Snapshot(ctx, func(snap db.Snapshot) error {
		w, ok := snap.(db.StoredAuditWalker)
		if !ok {
			return nil
		}
		walked = true
		return w.EachStoredAudit(ctx, func(st *chain.Stored) error {
			// Copied: the walk reuses its buffers.
			got = append(got, chain.Stored{Seq: st.Seq, Prefix: st.Prefix, ID: slices.Clone(st.ID), Fields: slices.Clone(st.Fields),
				PrevHash: slices.Clone(st.PrevHash), Hash: slices.Clone(st.Hash)})
			return nil
		})
	})
	if err != nil {
		t.Fatalf("EachStoredAudit: %v", err)
	}
	if !walked {
		t.Log("this engine walks the trail as events only (no db.StoredAuditWalker)")
		return
	}
	if len(got) != len(want) {
		t.Fatalf("EachStoredAudit walked %d events, EachAudit %d", len(got), len(want))
	}
	for i, e := range want {
		g := got[i]
		if g.Seq != e.Seq || g.Prefix != chain.PrefixOf(e) || string(g.ID) != e.ID || chain.Hex([chain.Size]byte(g.PrevHash)) != e.PrevHash || chain.Hex([chain.Size]byte(g.Hash)) != e.Hash {
			t.Errorf("event %d: stored seq %d id %s prev %x hash %x; EachAudit %+v", i, g.Seq, g.ID, g.PrevHash, g.Hash, e)
		}
		if fields := chain.EncodeFields(nil, e); !slices.Equal(g.Fields, fields) {
			t.Errorf("event %d (%s): stored fields\n%q\nEncodeFields\n%q", i, e.ID, g.Fields, fields)
		}
	}
	CheckLinks(t, want)
}}

var accessLogTests = []test{
	{"WhoAccessedMyRecords", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		patient, other, staff := createUser(t, s, "patient@example.org"), createUser(t, s, "other@example.org"), createUser(t, s, "staff@example.org")
		mine, theirs := uuid.NewString(), uuid.NewString()
		ev := func(d time.Duration, actor *string, action string, entityID *string, subjects ...string) model.AuditEvent {
			entity := model.EntityRecord
			if entityID != nil && (*entityID == patient.ID || *entityID == other.ID) {
				entity = model.EntityUser
			}
			return model.AuditEvent{ID: uuid.NewString(), At: at(d), ActorID: actor, Action: action, Entity: entity, EntityID: entityID, IP: "192.0.2.7", SubjectIDs: subjects}
		}
		list := ev(4*time.Second, &staff.ID, model.ActionRecordList, nil)
		list.RecordIDs, list.SubjectIDs = []string{theirs, mine}, []string{other.ID, patient.ID}
		export := ev(6*time.Second, nil, model.ActionPopulationExport, nil)
		export.Entity = model.EntityDatabase
		es := map[string]model.AuditEvent{
			"staff read":      ev(1*time.Second, &staff.ID, model.ActionRecordRead, &mine, patient.ID),
			"own read":        ev(2*time.Second, &patient.ID, model.ActionRecordRead, &mine, patient.ID),
			"other's read":    ev(3*time.Second, &staff.ID, model.ActionRecordRead, &theirs, other.ID),
			"staff list":      list,
			"account changed": ev(5*time.Second, &staff.ID, model.ActionUserUpdate, &patient.ID, patient.ID),
			"export":          export,
			"anonymous":       ev(7*time.Second, nil, model.ActionRecordDelete, &mine, patient.ID),
			"own login":       ev(8*time.Second, &patient.ID, model.ActionLogin, &patient.ID),
		}
		for _, e := range es {
			insertEvents(t, s, e)
		}
		since := at(4 * time.Second)
		for _, tc := range []struct {
			name string
			f    db.AccessLogFilter
			want []string // newest first
		}{
			{"all", db.AccessLogFilter{SubjectID: patient.ID}, []string{"anonymous", "export", "account changed", "staff list", "staff read"}},
			{"since", db.AccessLogFilter{SubjectID: patient.ID, Since: &since}, []string{"anonymous", "export", "account changed", "staff list"}},
			{"record", db.AccessLogFilter{SubjectID: patient.ID, RecordID: mine}, []string{"anonymous", "export", "staff list", "staff read"}},
			{"another record", db.AccessLogFilter{SubjectID: patient.ID, RecordID: theirs}, []string{"export", "staff list"}},
			{"the other patient", db.AccessLogFilter{SubjectID: other.ID}, []string{"export", "staff list", "other's read"}},
			{"staff's own", db.AccessLogFilter{SubjectID: staff.ID}, []string{"export"}},
			{"not a uuid", db.AccessLogFilter{SubjectID: "nope"}, nil},
			{"record not a uuid", db.AccessLogFilter{SubjectID: patient.ID, RecordID: "nope"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := tc.f
				f.Limit = 100
				got, total, err := s.Read().AccessLog(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if total != len(tc.want) || len(got) != len(tc.want) {
					t.Fatalf("%d events (total %d), want %d", len(got), total, len(tc.want))
				}
				for i, name := range tc.want {
					checkEvent(t, name, got[i], es[name])
					if !slices.Equal(got[i].SubjectIDs, es[name].SubjectIDs) {
						t.Errorf("%s: subjects %v, want %v", name, got[i].SubjectIDs, es[name].SubjectIDs)
					}
				}
				checkKeyset(t, tc.name, ids(got, eventID), 2, func(seek *db.Seek, limit int) ([]model.AuditEvent, int, error) {
					f.Seek, f.Limit, f.Offset = seek, limit, 0
					return s.Read().AccessLog(ctx, f)
				}, db.AuditPosition, eventID)
				f.Seek = nil
				// A page of one past the first, and the totals.
				if len(tc.want) > 1 {
					f.Limit, f.Offset = 1, 1
					page, total, err := s.Read().AccessLog(ctx, f)
					if err != nil || total != len(tc.want) || len(page) != 1 || page[0].ID != es[tc.want[1]].ID {
						t.Errorf("second page of one: %d events, total %d, %v", len(page), total, err)
					}
				}
			})
		}
	}},
}

var snapshotTests = []test{
	{"WalksOneMoment", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		a, b := createUser(t, s, "a@example.org"), createUser(t, s, "b@example.org")
		ra1, ra2, rb := newRecord(a.ID, sec(1)), newRecord(a.ID, sec(2)), newRecord(b.ID, sec(0))
		createRecords(t, s, ra2, rb, ra1)
		insertEvents(t, s, model.AuditEvent{ID: uuid.NewString(), At: at(0), Action: model.ActionSignup, Entity: model.EntityUser, EntityID: &a.ID, IP: "192.0.2.1"})
		before := time.Now()
		err := s.Snapshot(ctx, func(snap db.Snapshot) error {
			// Written after the snapshot began: not in it.
			late := createUser(t, s, "late@example.org")
			createRecords(t, s, newRecord(a.ID, sec(3)))
			insertEvents(t, s, model.AuditEvent{ID: uuid.NewString(), At: at(0), Action: model.ActionSignup, Entity: model.EntityUser, EntityID: &late.ID, IP: "192.0.2.1"})
			if d := snap.At().Sub(before); d < -time.Minute || d > time.Minute {
				t.Errorf("snapshot at %v, began at %v", snap.At(), before)
			}
			var users []string
			if err := snap.EachUser(ctx, func(u model.User) error { users = append(users, u.ID); return nil }); err != nil {
				return err
			}
			if want := []string{a.ID, b.ID}; !slices.Equal(slices.Sorted(slices.Values(users)), slices.Sorted(slices.Values(want))) {
				t.Errorf("EachUser: %v, want %v", users, want)
			}
			var all, ofA []string
			if err := snap.EachRecord(ctx, "", func(r model.MedicalRecord) error { all = append(all, r.ID); return nil }); err != nil {
				return err
			}
			if err := snap.EachRecord(ctx, a.ID, func(r model.MedicalRecord) error { ofA = append(ofA, r.ID); return nil }); err != nil {
				return err
			}
			if want := []string{ra1.ID, ra2.ID}; !slices.Equal(ofA, want) {
				t.Errorf("EachRecord of a: %v, want %v (oldest first)", ofA, want)
			}
			if len(all) != 3 || !slices.Contains(all, rb.ID) {
				t.Errorf("EachRecord of everyone: %v", all)
			}
			n := 0
			if err := snap.EachAudit(ctx, func(model.AuditEvent) error { n++; return nil }); err != nil {
				return err
			}
			if n != 1 {
				t.Errorf("EachAudit: %d events, want 1", n)
			}
			head, err := snap.AuditHead(ctx)
			if err != nil || head.Count != 1 {
				t.Errorf("the snapshot's AuditHead = %+v, %v", head, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := errors.New("stop")
		err = s.Snapshot(ctx, func(snap db.Snapshot) error {
			return snap.EachUser(ctx, func(model.User) error { return stop })
		})
		if !errors.Is(err, stop) {
			t.Errorf("a walk's error came back as %v", err)
		}
	}},
}
