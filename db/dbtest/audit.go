package dbtest

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// newestFirst sorts events as ListAudit does: by time, then id, both
// descending.
func newestFirst(es []model.AuditEvent) []model.AuditEvent {
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b model.AuditEvent) int {
		return -cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	return es
}

// insertEvents stores es in one transaction.
func insertEvents(t *testing.T, s db.Store, es ...model.AuditEvent) {
	t.Helper()
	write(t, s, func(tx db.Tx) error {
		for _, e := range es {
			if err := tx.InsertAudit(t.Context(), e); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkEvent fails the test unless got holds every field of want.
func checkEvent(t *testing.T, what string, got, want model.AuditEvent) {
	t.Helper()
	optEq := func(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	if got.ID != want.ID || got.Action != want.Action || got.Entity != want.Entity || got.IP != want.IP ||
		!optEq(got.ActorID, want.ActorID) || !optEq(got.EntityID, want.EntityID) ||
		string(got.Detail) != string(want.Detail) || (got.Detail == nil) != (want.Detail == nil) || !slices.Equal(got.RecordIDs, want.RecordIDs) {
		t.Errorf("%s: %s\nwant %s", what, describeEvent(got), describeEvent(want))
	}
	checkTime(t, what+" at", got.At, want.At)
}

func describeEvent(e model.AuditEvent) string {
	opt := func(p *string) string {
		if p == nil {
			return "nil"
		}
		return *p
	}
	return e.ID + " " + e.At.String() + " actor " + opt(e.ActorID) + " " + e.Action + " " + e.Entity + " " + opt(e.EntityID) + " " + e.IP +
		" detail " + string(e.Detail) + " records " + strings.Join(e.RecordIDs, ",")
}

// checkAuditTotals fails the test unless ListAudit reports want events
// matching f on a first page of one, a page of all and a page past the
// end.
// checkTrailHolds checks that the trail holds es and nothing else (at
// most 10), newest first, each as stored.
func checkTrailHolds(t *testing.T, s db.Store, es []model.AuditEvent) {
	t.Helper()
	got, n, err := s.Read().ListAudit(t.Context(), db.AuditFilter{Limit: 10})
	if err != nil || n != len(es) || len(got) != len(es) {
		t.Fatalf("trail: %d of %d, %v; want %d", len(got), n, err, len(es))
	}
	for i, e := range newestFirst(es) {
		checkEvent(t, "event", got[i], e)
	}
}

// servedEvent is an event of action on records, at d from ip; given the
// records it served, a list's or a search's, with its detail.
func servedEvent(d time.Duration, ip, action string, records ...string) model.AuditEvent {
	e := model.AuditEvent{ID: uuid.NewString(), At: at(d), Action: action, Entity: model.EntityRecord, IP: ip}
	if records != nil {
		e.Detail, e.RecordIDs = []byte(`{"page":1}`), records
	}
	return e
}

func checkAuditTotals(t *testing.T, s db.Store, f db.AuditFilter, want int) {
	t.Helper()
	for _, p := range []struct{ limit, offset int }{{1, 0}, {want + 10, 0}, {10, want + 10}} {
		f.Limit, f.Offset = p.limit, p.offset
		rows, total, err := s.Read().ListAudit(t.Context(), f)
		switch {
		case err != nil:
			t.Errorf("ListAudit %+v: %v", f, err)
		case total != want:
			t.Errorf("ListAudit %+v: total %d, want %d", f, total, want)
		case len(rows) != min(p.limit, max(0, want-p.offset)):
			t.Errorf("ListAudit %+v: %d rows, want %d", f, len(rows), min(p.limit, max(0, want-p.offset)))
		}
	}
}

var auditTests = []test{
	{"ListFilters", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		ua, ub := createUser(t, s, "actor-a@example.org"), createUser(t, s, "actor-b@example.org")
		rec1, rec2 := uuid.NewString(), uuid.NewString()
		ev := func(d time.Duration, actor *string, action, entity string, entityID *string) model.AuditEvent {
			return model.AuditEvent{ID: uuid.NewString(), At: at(d), ActorID: actor, Action: action, Entity: entity, EntityID: entityID, IP: "2001:db8::1"}
		}
		served := func(e model.AuditEvent, detail string, records ...string) model.AuditEvent {
			e.Detail, e.RecordIDs = []byte(detail), records
			return e
		}
		es := map[string]model.AuditEvent{
			"e1": ev(1*time.Second, &ua.ID, model.ActionRecordCreate, model.EntityRecord, &rec1),
			"e2": ev(2*time.Second, &ua.ID, model.ActionRecordRead, model.EntityRecord, &rec1),
			"e3": ev(2*time.Second, &ub.ID, model.ActionRecordRead, model.EntityRecord, &rec2), // same time as e2
			"e4": ev(3*time.Second, nil, model.ActionLoginFailed, model.EntityUser, nil),       // nobody signed in
			"e5": ev(4*time.Second, &ub.ID, model.ActionRecordDelete, model.EntityRecord, &rec1),
			"e6": ev(4*time.Second, &ub.ID, model.ActionRecordRead, model.EntityRecord, &rec2),
			"e7": ev(5*time.Second, nil, model.ActionSignup, model.EntityUser, &ua.ID),
			"e8": ev(6*time.Second, &ua.ID, model.ActionRecordRead, model.EntityRecord, &rec2),
			// Reads of several records: about none, naming those served.
			"e9":  served(ev(6500*time.Millisecond, &ua.ID, model.ActionRecordList, model.EntityRecord, nil), `{"page":1,"page_size":20,"count":2}`, rec2, rec1),
			"e10": served(ev(2500*time.Millisecond, &ub.ID, model.ActionRecordSearch, model.EntityRecord, nil), `{"search":{"length":3,"words":1}}`, rec2),
			// About rec1 and serving it too: found once by rec1.
			"e11": served(ev(500*time.Millisecond, nil, model.ActionRecordRead, model.EntityRecord, &rec1), `{}`, rec1),
		}
		var all []model.AuditEvent
		for _, e := range es {
			all = append(all, e)
		}
		// In two transactions, the later first.
		insertEvents(t, s, es["e5"], es["e6"], es["e7"], es["e8"])
		insertEvents(t, s, es["e1"], es["e2"], es["e3"], es["e4"], es["e9"], es["e10"], es["e11"])
		since := at(2 * time.Second)
		for _, tc := range []struct {
			name string
			f    db.AuditFilter
			want []string
		}{
			{"none", db.AuditFilter{}, []string{"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11"}},
			{"actor", db.AuditFilter{ActorID: ua.ID}, []string{"e1", "e2", "e8", "e9"}},
			{"entity", db.AuditFilter{EntityID: rec1}, []string{"e1", "e2", "e5", "e9", "e11"}},
			{"entity served", db.AuditFilter{EntityID: rec2}, []string{"e3", "e6", "e8", "e9", "e10"}},
			{"entity served, action", db.AuditFilter{EntityID: rec2, Action: model.ActionRecordList}, []string{"e9"}},
			{"entity served, since", db.AuditFilter{EntityID: rec2, Since: ptr(at(3 * time.Second))}, []string{"e6", "e8", "e9"}},
			{"entity not a uuid", db.AuditFilter{EntityID: "not-a-uuid"}, nil},
			{"entity user", db.AuditFilter{EntityID: ua.ID}, []string{"e7"}},
			{"action", db.AuditFilter{Action: model.ActionRecordRead}, []string{"e2", "e3", "e6", "e8", "e11"}},
			{"action seen once", db.AuditFilter{Action: model.ActionLoginFailed}, []string{"e4"}},
			{"action never seen", db.AuditFilter{Action: model.ActionSSHLogin}, nil},
			{"since, inclusive", db.AuditFilter{Since: &since}, []string{"e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10"}},
			{"since the end", db.AuditFilter{Since: ptr(at(7 * time.Second))}, nil},
			{"action and since", db.AuditFilter{Action: model.ActionRecordRead, Since: ptr(at(3 * time.Second))}, []string{"e6", "e8"}},
			{"actor and action", db.AuditFilter{ActorID: ub.ID, Action: model.ActionRecordRead}, []string{"e3", "e6"}},
			{"actor and entity", db.AuditFilter{ActorID: ub.ID, EntityID: rec2}, []string{"e3", "e6", "e10"}},
			{"everything", db.AuditFilter{ActorID: ua.ID, EntityID: rec2, Action: model.ActionRecordRead, Since: &since}, []string{"e8"}},
			{"unknown actor", db.AuditFilter{ActorID: uuid.NewString()}, nil},
		} {
			var want []model.AuditEvent
			for _, l := range tc.want {
				want = append(want, es[l])
			}
			wantIDs := ids(newestFirst(want), eventID)
			f := tc.f
			f.Limit = 100
			got, total, err := s.Read().ListAudit(ctx, f)
			if err != nil {
				t.Errorf("%s: ListAudit: %v", tc.name, err)
				continue
			}
			checkIDs(t, tc.name, ids(got, eventID), wantIDs)
			if total != len(wantIDs) {
				t.Errorf("%s: total %d, want %d", tc.name, total, len(wantIDs))
			}
			for _, e := range got {
				for _, w := range all {
					if w.ID == e.ID {
						checkEvent(t, tc.name, e, w)
					}
				}
			}
			f.Limit = 3
			var paged []string
			for f.Offset = 0; f.Offset <= len(wantIDs)+3; f.Offset += 3 {
				got, total, err := s.Read().ListAudit(ctx, f)
				if err != nil || total != len(wantIDs) {
					t.Errorf("%s: page at %d: total %d, %v; want %d", tc.name, f.Offset, total, err, len(wantIDs))
				}
				paged = append(paged, ids(got, eventID)...)
			}
			checkIDs(t, tc.name+", in pages of 3", paged, wantIDs)
			checkKeyset(t, tc.name, wantIDs, 2, func(seek *db.Seek, limit int) ([]model.AuditEvent, int, error) {
				f.Seek, f.Limit, f.Offset = seek, limit, 0
				return s.Read().ListAudit(ctx, f)
			}, db.AuditPosition, eventID)
		}
	}},
	{"InsertAuditsAppendsEach", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		rec := uuid.NewString()
		ev := func(d time.Duration, action string, records ...string) model.AuditEvent {
			return servedEvent(d, "192.0.2.10", action, records...)
		}
		es := []model.AuditEvent{ev(time.Second, model.ActionRecordList, rec, uuid.NewString()), ev(2*time.Second, model.ActionRecordRead), ev(3*time.Second, model.ActionRecordSearch, rec)}
		write(t, s, func(tx db.Tx) error { return tx.InsertAudits(ctx, es) })
		checkTrailHolds(t, s, es)
		checkAuditTotals(t, s, db.AuditFilter{Action: model.ActionRecordSearch}, 1)
		checkAuditTotals(t, s, db.AuditFilter{EntityID: rec}, 2)
		// One bad event refuses the whole call, and its transaction.
		bad := []model.AuditEvent{ev(4*time.Second, model.ActionRecordRead), ev(5*time.Second, model.ActionRecordList, "nope")}
		if err := s.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, bad) }); err == nil {
			t.Fatal("a batch with a bad record id was stored")
		}
		checkAuditTotals(t, s, db.AuditFilter{}, 3)
	}},
	{"AppendAuditsIsOneTransaction", func(t *testing.T, s db.Store) {
		// The audit writer's call: the events land together, linked and
		// counted as InsertAudits links and counts them, or not at all.
		ctx := t.Context()
		rec := uuid.NewString()
		ev := func(d time.Duration, action string, records ...string) model.AuditEvent {
			e := servedEvent(d, "192.0.2.12", action, records...)
			if records != nil {
				e.SubjectIDs = []string{uuid.NewString()}
			}
			return e
		}
		if err := s.AppendAudits(ctx, nil); err != nil {
			t.Fatalf("AppendAudits(nil) = %v", err)
		}
		es := []model.AuditEvent{ev(time.Second, model.ActionRecordList, rec, uuid.NewString()), ev(2*time.Second, model.ActionRecordRead), ev(3*time.Second, model.ActionRecordSearch, rec)}
		if err := s.AppendAudits(ctx, es); err != nil {
			t.Fatal(err)
		}
		checkTrailHolds(t, s, es)
		checkAuditTotals(t, s, db.AuditFilter{Action: model.ActionRecordList}, 1)
		checkAuditTotals(t, s, db.AuditFilter{EntityID: rec}, 2)
		// Refused before anything is sent: a malformed record id.
		if err := s.AppendAudits(ctx, []model.AuditEvent{ev(4*time.Second, model.ActionRecordRead), ev(5*time.Second, model.ActionRecordList, "nope")}); err == nil {
			t.Fatal("a batch with a bad record id was stored")
		}
		// Refused by the database after the first event went in: the
		// second is an event already in the trail (its id and time). The
		// first must not land either.
		first := ev(6*time.Second, model.ActionRecordList, rec)
		if err := s.AppendAudits(ctx, []model.AuditEvent{first, es[1]}); err == nil {
			t.Fatal("a batch repeating a stored event was stored")
		}
		checkAuditTotals(t, s, db.AuditFilter{}, 3)
		checkAuditTotals(t, s, db.AuditFilter{Action: model.ActionRecordList}, 1)
		checkAuditTotals(t, s, db.AuditFilter{EntityID: rec}, 2)
		// The chain goes on from where the last batch that landed left it.
		if err := s.AppendAudits(ctx, []model.AuditEvent{first}); err != nil {
			t.Fatal(err)
		}
		checkAuditTotals(t, s, db.AuditFilter{EntityID: rec}, 3)
		checkChain(t, s, chainOf(t, s))
	}},
	{"InsertAuditsLargeBatch", func(t *testing.T, s db.Store) {
		// More events than one statement takes (the SQLite engine writes a
		// batch as multi-row INSERTs of 256), of several actions: each is
		// linked, counted under its action and found by the records it
		// served.
		ctx := t.Context()
		rec := uuid.NewString()
		actions := []string{model.ActionRecordList, model.ActionRecordRead, model.ActionRecordSearch}
		es := make([]model.AuditEvent, 600)
		for i := range es {
			es[i] = model.AuditEvent{ID: uuid.NewString(), At: at(time.Duration(i) * time.Millisecond), Action: actions[i%3],
				Entity: model.EntityRecord, IP: "192.0.2.11", SubjectIDs: []string{uuid.NewString()}}
			if i%3 != 1 {
				es[i].Detail, es[i].RecordIDs, es[i].SubjectIDs = []byte(`{"page":1}`), []string{uuid.NewString(), rec}, []string{uuid.NewString(), uuid.NewString()}
			}
		}
		write(t, s, func(tx db.Tx) error { return tx.InsertAudits(ctx, es) })
		checkAuditTotals(t, s, db.AuditFilter{}, len(es))
		for _, a := range actions {
			checkAuditTotals(t, s, db.AuditFilter{Action: a}, len(es)/3)
		}
		checkAuditTotals(t, s, db.AuditFilter{EntityID: rec}, 2*len(es)/3)
		last := es[len(es)-1]
		log, n, err := s.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: last.SubjectIDs[1], Limit: 10})
		if err != nil || n != 1 || len(log) != 1 || log[0].ID != last.ID {
			t.Fatalf("the last event's subject's access log: %d events of %d, %v", len(log), n, err)
		}
		var chained []model.AuditEvent
		if err := s.Snapshot(ctx, func(snap db.Snapshot) error {
			return snap.EachAudit(ctx, func(e model.AuditEvent) error { chained = append(chained, e); return nil })
		}); err != nil {
			t.Fatal(err)
		}
		if len(chained) != len(es) {
			t.Fatalf("%d events in the chain, want %d", len(chained), len(es))
		}
		CheckLinks(t, chained)
	}},
	{"RecordIDsMustBeUUIDs", func(t *testing.T, s db.Store) {
		// What a list served names records by their ids; anything else is
		// refused, and the transaction with it.
		ctx := t.Context()
		e := model.AuditEvent{ID: uuid.NewString(), At: at(time.Second), Action: model.ActionRecordList, Entity: model.EntityRecord, IP: "192.0.2.9",
			Detail: []byte(`{}`), RecordIDs: []string{uuid.NewString(), "not-a-uuid"}}
		if err := s.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, e) }); err == nil {
			t.Fatal("an event naming a record id that is not a uuid was stored")
		}
		if _, n, err := s.Read().ListAudit(ctx, db.AuditFilter{Limit: 10}); err != nil || n != 0 {
			t.Fatalf("trail after the refusal: %d events, %v", n, err)
		}
	}},
	{"TotalsByAction", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "totals@example.org")
		want := map[string]int{model.ActionRecordRead: 5, model.ActionRecordCreate: 3, model.ActionLogin: 1}
		var es []model.AuditEvent
		i := 0
		for action, n := range want {
			for range n {
				i++
				es = append(es, model.AuditEvent{ID: uuid.NewString(), At: at(time.Duration(i) * time.Millisecond), ActorID: &u.ID,
					Action: action, Entity: model.EntityRecord, IP: "192.0.2.7"})
			}
		}
		insertEvents(t, s, es...)
		// A rolled-back event counts nowhere.
		boom := errors.New("boom")
		err := s.Write(ctx, func(tx db.Tx) error {
			for _, action := range []string{model.ActionRecordRead, model.ActionSSHLogin} {
				if err := tx.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: at(time.Hour), Action: action, Entity: model.EntityUser, IP: "192.0.2.8"}); err != nil {
					return err
				}
			}
			return boom
		})
		wantErr(t, "rolled-back InsertAudit", err, boom)
		sum := 0
		for action, n := range want {
			checkAuditTotals(t, s, db.AuditFilter{Action: action}, n)
			sum += n
		}
		checkAuditTotals(t, s, db.AuditFilter{Action: model.ActionSSHLogin}, 0)
		checkAuditTotals(t, s, db.AuditFilter{}, sum)
		checkAuditTotals(t, s, db.AuditFilter{ActorID: u.ID}, sum)
		checkAuditTotals(t, s, db.AuditFilter{ActorID: u.ID, Action: model.ActionRecordCreate}, 3)
	}},
}

// malformedIDs are ids no engine stores: the server rejects them before
// asking, but the store must answer them like any missing id.
var malformedIDs = []string{"not-a-uuid", "' OR 1=1 --", "", "00000000-0000-0000-0000-00000000000g", "1"}

var malformedIDTests = []test{
	{"Reads", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "malformed@example.org")
		createRecords(t, s, newRecord(u.ID, at(0)))
		insertEvents(t, s, model.AuditEvent{ID: uuid.NewString(), At: at(0), ActorID: &u.ID, Action: model.ActionLogin, Entity: model.EntityUser, EntityID: &u.ID, IP: "::1"})
		for _, id := range malformedIDs {
			check := func(what string, err error) {
				t.Helper()
				wantErr(t, what+"("+quote(id)+")", err, db.ErrNotFound)
			}
			{
				how, r := "Read", s.Read()
				_, err := r.UserByID(ctx, id)
				check(how+" UserByID", err)
				_, err = r.RecordByID(ctx, id)
				check(how+" RecordByID", err)
				_, err = r.RefreshTokenByID(ctx, id)
				check(how+" RefreshTokenByID", err)
				_, err = r.ActiveOTP(ctx, id, t0, 5)
				check(how+" ActiveOTP", err)
				_, err = r.UserByEmail(ctx, id)
				check(how+" UserByEmail", err)
				_, err = r.SSHKeyByFingerprint(ctx, id)
				check(how+" SSHKeyByFingerprint", err)
			}
			if id == "" {
				continue // an empty filter is no filter
			}
			// Filters by a malformed id match nothing.
			keys, err := s.Read().SSHKeysOf(ctx, id)
			if err != nil || len(keys) != 0 {
				t.Errorf("SSHKeysOf(%s): %d keys, %v; want none", quote(id), len(keys), err)
			}
			for name, f := range map[string]db.UserFilter{"OnlyID": {OnlyID: id}} {
				f.Limit = 10
				if rows, total, err := s.Read().ListUsers(ctx, f); err != nil || len(rows) != 0 || total != 0 {
					t.Errorf("ListUsers %s %s: %d rows, total %d, %v; want none", name, quote(id), len(rows), total, err)
				}
			}
			if rows, total, err := s.Read().ListRecords(ctx, db.RecordFilter{UserID: id, Limit: 10}); err != nil || len(rows) != 0 || total != 0 {
				t.Errorf("ListRecords UserID %s: %d rows, total %d, %v; want none", quote(id), len(rows), total, err)
			}
			for name, f := range map[string]db.AuditFilter{"ActorID": {ActorID: id}, "EntityID": {EntityID: id}} {
				f.Limit = 10
				if rows, total, err := s.Read().ListAudit(ctx, f); err != nil || len(rows) != 0 || total != 0 {
					t.Errorf("ListAudit %s %s: %d rows, total %d, %v; want none", name, quote(id), len(rows), total, err)
				}
			}
		}
	}},
	{"Writes", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "malformed@example.org")
		for _, id := range malformedIDs {
			for _, tc := range []struct {
				name string
				fn   func(tx db.Tx) error
			}{
				{"UserByID", func(tx db.Tx) error { _, err := tx.UserByID(ctx, id); return err }},
				{"RecordByID", func(tx db.Tx) error { _, err := tx.RecordByID(ctx, id); return err }},
				{"RefreshTokenByID", func(tx db.Tx) error { _, err := tx.RefreshTokenByID(ctx, id); return err }},
				{"ActiveOTP", func(tx db.Tx) error { _, err := tx.ActiveOTP(ctx, id, t0, 5); return err }},
				{"UpdateUser", func(tx db.Tx) error {
					v := u.User
					v.ID = id
					return tx.UpdateUser(ctx, v)
				}},
				{"SetPassword", func(tx db.Tx) error { return tx.SetPassword(ctx, id, "x", at(0)) }},
				{"InvalidateAccessTokens", func(tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, id) }},
				{"UpdateRecord", func(tx db.Tx) error {
					r := newRecord(u.ID, at(0))
					r.ID = id
					return tx.UpdateRecord(ctx, r)
				}},
				{"DeleteRecord", func(tx db.Tx) error { return tx.DeleteRecord(ctx, id) }},
				{"DeleteSSHKey of a malformed key", func(tx db.Tx) error { return tx.DeleteSSHKey(ctx, u.ID, id) }},
				{"DeleteSSHKey of a malformed user", func(tx db.Tx) error { return tx.DeleteSSHKey(ctx, id, uuid.NewString()) }},
			} {
				// The Tx stays usable after the miss: the user created after
				// it is there once the Write commits.
				after := newUser(uuid.NewString()+"@example.org", at(0))
				err := s.Write(ctx, func(tx db.Tx) error {
					if err := tc.fn(tx); !errors.Is(err, db.ErrNotFound) {
						return errors.Join(errors.New("not ErrNotFound"), err)
					}
					return tx.CreateUser(ctx, after)
				})
				if err != nil {
					t.Errorf("Tx %s(%s): %v; want ErrNotFound, and the Tx usable after it", tc.name, quote(id), err)
					continue
				}
				if _, err := s.Read().UserByID(ctx, after.ID); err != nil {
					t.Errorf("user created after Tx %s(%s): %v", tc.name, quote(id), err)
				}
			}
		}
	}},
}

// quote quotes s for a message.
func quote(s string) string { return "\"" + s + "\"" }

// emptyListTests: a list that finds nothing is empty, not nil, so the API
// sends [] rather than null.
var emptyListTests = []test{
	{"EmptyListsAreNotNil", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "empty@example.org")
		keys, err := s.Read().SSHKeysOf(ctx, u.ID)
		if err != nil || keys == nil {
			t.Errorf("SSHKeysOf a user without keys: %#v, %v; want an empty list", keys, err)
		}
		users, _, err := s.Read().ListUsers(ctx, db.UserFilter{Search: "nobody", Limit: 10})
		if err != nil || users == nil {
			t.Errorf("ListUsers matching nobody: %#v, %v; want an empty list", users, err)
		}
		records, _, err := s.Read().ListRecords(ctx, db.RecordFilter{Limit: 10})
		if err != nil || records == nil {
			t.Errorf("ListRecords of an empty table: %#v, %v; want an empty list", records, err)
		}
		records, _, err = s.Read().ListRecords(ctx, db.RecordFilter{Limit: 10, Offset: 20})
		if err != nil || records == nil {
			t.Errorf("ListRecords past the end: %#v, %v; want an empty list", records, err)
		}
		events, _, err := s.Read().ListAudit(ctx, db.AuditFilter{Limit: 10})
		if err != nil || events == nil {
			t.Errorf("ListAudit of an empty trail: %#v, %v; want an empty list", events, err)
		}
	}},
}
