package db

import (
	"github.com/anavara/anavara/model"
)

// SSHKeyRow is a stored public key with its owner.
type SSHKeyRow struct {
	model.SSHKey
	UserID    string
	PublicKey string
}
