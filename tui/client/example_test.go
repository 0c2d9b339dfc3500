package client_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// A script that lists every record its API token may read, by cursor, so
// that records added meanwhile neither repeat nor push others off a page
// (the README's "Scripting" section shows this program).
func Example_apiToken() {
	c, err := client.New(client.Options{BaseURL: os.Getenv("ANAVARA_URL")})
	if err != nil {
		log.Fatal(err)
	}
	// An API token (anv_…) or an SSH token is an access token with no
	// refresh token: the client sends it and never refreshes.
	c.SetTokens(model.TokenPair{AccessToken: os.Getenv("ANAVARA_TOKEN")})
	ctx := context.Background()
	q := client.RecordQuery{ByCursor: true, PageSize: 100, Ordering: "date_of_treatment"}
	for {
		page, err := c.ListRecords(ctx, q)
		if err != nil {
			// An *client.APIError carries the status and the field errors.
			log.Fatal(err)
		}
		for _, r := range page.Results {
			fmt.Println(r.DateOfTreatment, r.PatientName, r.Doctor)
		}
		if page.Cursors == nil || page.NextCursor == nil {
			break
		}
		q.Cursor = *page.NextCursor
	}
}
