package eventpattern

import "errors"

// ErrInvalidPattern is matched (with errors.Is) by every error Compile
// returns.
var ErrInvalidPattern = errors.New("event pattern is not valid")

// PatternError says why a pattern was refused and where.
type PatternError struct {
	// Path is the dotted path of the offending field, with $or alternatives
	// shown as "$or[i]" ("detail.$or[1].amount"); empty when the fault is
	// with the pattern as a whole.
	Path string
	// Reason says what is wrong, in the words EventBridge uses where it has
	// some.
	Reason string
}

func (e *PatternError) Error() string {
	if e.Path == "" {
		return ErrInvalidPattern.Error() + ": " + e.Reason
	}
	return ErrInvalidPattern.Error() + ": " + e.Path + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidPattern) true.
func (e *PatternError) Is(target error) bool { return target == ErrInvalidPattern }

func invalid(path, reason string) error {
	return &PatternError{Path: path, Reason: reason}
}
