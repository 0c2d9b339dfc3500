// Command apiscript is a script's use of the Go client that oapi-codegen
// generates from the served /schema with its default configuration:
// scripts/check-openapi-clients generates the client package beside this
// file and builds both, so a change to openapi.yaml that breaks a generated
// Go client fails CI.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"anavara.example/apiscript/client"
)

func main() {
	ctx := context.Background()
	base, token := os.Getenv("ANAVARA_URL"), os.Getenv("ANAVARA_TOKEN")
	bearer := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
	api, err := client.NewClientWithResponses(base, client.WithRequestEditorFn(bearer))
	if err != nil {
		log.Fatal(err)
	}

	// Enum values as typed strings: oapi-codegen names their constants
	// after the value alone unless two enums clash.
	ordering := client.ListMedicalRecordsParamsOrdering("date_of_treatment")
	pageSize := client.PageSize(100)
	for page := client.Page(1); ; page++ {
		res, err := api.ListMedicalRecordsWithResponse(ctx, &client.ListMedicalRecordsParams{
			Page: &page, PageSize: &pageSize, Ordering: &ordering,
		})
		if err != nil {
			log.Fatal(err)
		}
		if res.JSON200 == nil {
			log.Fatalf("list records: %s: %s", res.Status(), res.Body)
		}
		for _, r := range res.JSON200.Results {
			fmt.Println(r.Id, r.DateOfTreatment, r.PatientName)
		}
		if res.JSON200.Next == nil {
			break
		}
	}

	// Staff: an account made without is_staff (omitted means false), safe
	// to retry with its Idempotency-Key, then its creation found in the
	// audit trail by a closed-valued action.
	key := "create-ann-2030-01-15"
	created, err := api.CreateUserWithResponse(ctx, &client.CreateUserParams{IdempotencyKey: &key}, client.CreateUserJSONRequestBody{
		Email: "ann@example.org", FirstName: "Ann", LastName: "Lee", Password: "Vq7!plum-Orbit-42",
	})
	if err != nil {
		log.Fatal(err)
	}
	if created.JSON201 == nil {
		log.Fatalf("create user: %s: %s", created.Status(), created.Body)
	}
	action := client.AuditAction("user.create")
	events, err := api.ListAuditEventsWithResponse(ctx, &client.ListAuditEventsParams{Action: &action, EntityId: created.JSON201.Id})
	if err != nil {
		log.Fatal(err)
	}
	if events.JSON200 == nil {
		log.Fatalf("audit events: %s: %s", events.Status(), events.Body)
	}
	fmt.Println(events.JSON200.Count, "user.create events")
}
