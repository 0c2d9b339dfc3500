package chain_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/model"
)

// specEncoding builds an event's encoding from the package doc's words,
// apart from Encode: the prefix, each field length-prefixed (0xFFFFFFFF
// for one absent), token_id only in version 2, then prev.
func specEncoding(prefix string, seq int64, fields []*string, prev [chain.Size]byte) []byte {
	b := []byte(prefix)
	b = binary.BigEndian.AppendUint32(b, uint32(len(strconv.FormatInt(seq, 10))))
	b = append(b, strconv.FormatInt(seq, 10)...)
	for _, f := range fields {
		if f == nil {
			b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF)
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(*f)))
		b = append(b, *f...)
	}
	return append(b, prev[:]...)
}

func str(s string) *string { return &s }

// goldenEvent is one event of every field, without a token.
func goldenEvent() model.AuditEvent {
	return model.AuditEvent{
		ID: "20000000-0000-4000-8000-000000000001", At: time.Date(2026, 12, 1, 9, 0, 0, 123456789, time.UTC),
		ActorID: str("00000000-0000-4000-8000-000000000001"), Action: model.ActionRecordList, Entity: model.EntityRecord,
		IP: "192.0.2.7", Via: model.ViaAPI, Detail: json.RawMessage(`{"page":1}`),
		RecordIDs:  []string{"10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002"},
		SubjectIDs: []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000001"},
	}
}

// goldenV1Hash is goldenEvent's hash at seq 7 after prev 0x01…: the
// version 1 encoding as it was before version 2 existed (computed with
// that code). It must never
// change: every stored trail depends on it.
const goldenV1Hash = "0f2c824ff8cdcc3374f942701da4d23fe41c273c87f6fd37de8b3aa291a12889"

// TestEncodingV1Unchanged: an event without a token encodes as the
// package doc's version 1, to the byte, and hashes to the golden hash.
func TestEncodingV1Unchanged(t *testing.T) {
	e := goldenEvent()
	var prev [chain.Size]byte
	prev[0] = 1
	want := specEncoding("anavara-audit-chain-v1\n\x00", 7, []*string{
		&e.ID, str("2026-12-01T09:00:00.123456Z"), e.ActorID, &e.Action, &e.Entity, nil, &e.IP, &e.Via,
		str(`{"page":1}`), str(e.RecordIDs[0] + "," + e.RecordIDs[1]), str(e.SubjectIDs[0] + "," + e.SubjectIDs[1]),
	}, prev)
	got := chain.Encode(nil, 7, e, prev)
	if !bytes.Equal(got, want) {
		t.Fatalf("version 1 encoding changed:\n got %q\nwant %q", got, want)
	}
	sum := sha256.Sum256(want)
	if h := chain.Hash(7, e, prev); h != sum {
		t.Fatalf("Hash = %x; want %x", h, sum)
	}
	if hex.EncodeToString(sum[:]) != goldenV1Hash {
		t.Fatalf("version 1 hash = %x; want the golden %s", sum, goldenV1Hash)
	}
}

// TestEncodingV2: an event with a token encodes as version 2, version 1's
// fields with its own prefix and token_id after subject_ids; the token id
// is covered by the hash, and an event cannot lose it, or have it
// changed, without its hash changing.
func TestEncodingV2(t *testing.T) {
	e := goldenEvent()
	e.TokenID = str("30000000-0000-4000-8000-000000000009")
	var prev [chain.Size]byte
	prev[0] = 1
	want := specEncoding("anavara-audit-chain-v2\n\x00", 7, []*string{
		&e.ID, str("2026-12-01T09:00:00.123456Z"), e.ActorID, &e.Action, &e.Entity, nil, &e.IP, &e.Via,
		str(`{"page":1}`), str(e.RecordIDs[0] + "," + e.RecordIDs[1]), str(e.SubjectIDs[0] + "," + e.SubjectIDs[1]),
		e.TokenID,
	}, prev)
	if got := chain.Encode(nil, 7, e, prev); !bytes.Equal(got, want) {
		t.Fatalf("version 2 encoding:\n got %q\nwant %q", got, want)
	}
	if chain.PrefixOf(e) != chain.PrefixV2 || chain.PrefixOf(goldenEvent()) != chain.Prefix || len(chain.PrefixV2) != len(chain.Prefix) {
		t.Fatal("PrefixOf picks the wrong version")
	}
	// EncodeFields is what the database puts between the seq and prev.
	fields := chain.EncodeFields(nil, e)
	if !bytes.HasSuffix(want[:len(want)-chain.Size], fields) {
		t.Fatal("EncodeFields is not the encoding's fields")
	}
	h := chain.Hash(7, e, prev)
	without := e
	without.TokenID = nil
	other := e
	other.TokenID = str("30000000-0000-4000-8000-000000000008")
	if h == chain.Hash(7, without, prev) || h == chain.Hash(7, other, prev) {
		t.Fatal("the token id is not covered by the hash")
	}
	// An empty token id is still version 2, and not version 1.
	empty := e
	empty.TokenID = str("")
	if chain.Hash(7, empty, prev) == chain.Hash(7, without, prev) {
		t.Fatal("an empty token id hashes as no token")
	}
}

// TestVerifierMixedVersions: a trail of version 1 and version 2 events
// verifies; a token id added, removed or changed afterwards breaks it at
// that event.
func TestVerifierMixedVersions(t *testing.T) {
	es := trail(12)
	for i := range es {
		if i%3 == 0 {
			es[i].TokenID = str("30000000-0000-4000-8000-00000000000" + strconv.Itoa(i%10))
		}
	}
	relink(es, 0)
	if r := verify(es, nil); r.Break != nil || r.Checked != 12 {
		t.Fatalf("mixed trail: %+v", r)
	}
	for _, tc := range []struct {
		name   string
		i      int
		tamper func(*model.AuditEvent)
	}{
		{"token id removed", 3, func(e *model.AuditEvent) { e.TokenID = nil }},
		{"token id added", 4, func(e *model.AuditEvent) { e.TokenID = str("30000000-0000-4000-8000-000000000001") }},
		{"token id changed", 6, func(e *model.AuditEvent) { e.TokenID = str("30000000-0000-4000-8000-000000000007") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forged := append([]model.AuditEvent(nil), es...)
			tc.tamper(&forged[tc.i])
			r := verify(forged, nil)
			if r.Break == nil || r.Break.Kind != chain.ContentsChanged || r.Break.Position != int64(tc.i+1) {
				t.Fatalf("verify = %+v; want contents changed at %d", r.Break, tc.i+1)
			}
		})
	}
}
