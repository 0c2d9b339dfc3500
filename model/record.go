package model

import "time"

// MedicalRecord is one treatment record of a patient account.
type MedicalRecord struct {
	ID              string    `json:"id"`
	UserID          string    `json:"user_id"`
	PatientName     string    `json:"patient_name"`
	DateOfBirth     Date      `json:"date_of_birth"`
	Diagnosis       string    `json:"diagnosis"`
	Treatment       string    `json:"treatment"`
	DateOfTreatment Date      `json:"date_of_treatment"`
	Doctor          string    `json:"doctor"`
	Created         time.Time `json:"created"`
	Updated         time.Time `json:"updated"`
	// Version starts at 1 and grows by one with every change of the
	// record. It is not in the JSON body: the API sends it as the ETag
	// header (server/etag.go), and If-Match sends it back.
	Version int64 `json:"-"`
}

// RecordOrderings lists the values the records list accepts for "ordering",
// each also valid with a leading "-" for descending order.
var RecordOrderings = []string{"created", "updated", "date_of_treatment", "patient_name"}

// DefaultRecordOrdering is the records list order when none is asked for.
const DefaultRecordOrdering = "-created"

// ValidRecordOrdering reports whether s is an accepted ordering.
func ValidRecordOrdering(s string) bool {
	name := s
	if len(name) > 0 && name[0] == '-' {
		name = name[1:]
	}
	for _, o := range RecordOrderings {
		if o == name {
			return true
		}
	}
	return false
}
