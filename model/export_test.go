package model

// CommonPasswordCount is the size of the common-password set, for tests.
func CommonPasswordCount() int { return len(commonPasswords()) }
