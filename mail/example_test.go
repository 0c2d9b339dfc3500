package mail_test

import (
	"context"
	"fmt"
	"time"

	"github.com/anavara/anavara/mail"
)

// A test hands a Capture to the code under test in place of the real
// Mailer, then reads the code the user was sent.
func ExampleCapture() {
	c := mail.NewCapture()
	var m mail.Mailer = c

	go m.Send(context.Background(), mail.Message{
		To:      "zoe@example.org",
		Subject: "Your password reset code",
		Body:    "Your code is 493120.",
	})

	// Bound the wait so a message that never comes fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := c.WaitFor(ctx, "zoe@example.org")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.Body)
	// Output: Your code is 493120.
}
