package chain

import (
	"testing"

	"github.com/google/uuid"
)

func TestAppendUUID(t *testing.T) {
	for _, u := range []uuid.UUID{uuid.Nil, uuid.Max, uuid.MustParse("0123abcd-4567-89ef-fedc-ba9876543210"), uuid.New(), uuid.New()} {
		if got := string(AppendUUID([]byte("x"), u[:])); got != "x"+u.String() {
			t.Errorf("AppendUUID(%v) = %q", u, got)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("AppendUUID of 15 bytes did not panic")
		}
	}()
	AppendUUID(nil, make([]byte, 15))
}
