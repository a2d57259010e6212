// Package eventpattern matches Amazon EventBridge event patterns against
// events, with the semantics of aws/event-ruler, the library EventBridge
// runs. It stands in for the bus's rule matching when Lantau runs on one
// machine.
//
// A pattern is compiled once with [Compile] and is then safe for concurrent
// use by any number of goroutines. Everything the matcher needs (prefixes,
// wildcard segments, case-folding tables, CIDR networks, numeric ranges, the
// $or expansion) is prepared at compile time. [Pattern.Match] reads the
// event JSON in one pass without decoding what the pattern does not name.
//
// # How a pattern matches
//
// Pattern and event are both seen as lists of leaf fields named by their
// dotted path ("detail.state"). Arrays add nothing to a name: every element
// of an array at "resources" is a field named "resources". A pattern matches
// when every field it names has a value matching one of the values listed
// for it; $or alternatives are expanded into separate branches, any of
// which may match, each combined with the fields beside the $or.
//
//   - Strings compare byte for byte. Numbers compare numerically (5 matches
//     5.0 and 5e0) and also by their exact JSON text, so numbers too large
//     for a float64 still match themselves. The user guide still says 300
//     and 3.0e2 differ; event-ruler has compared numbers by value since it
//     gained numeric equality, and we follow event-ruler. true, false and
//     null match only themselves; "" and null differ.
//   - An event array matches if any element matches. When the pattern names
//     several fields under objects inside one event array, they must all
//     come from the same element ("array consistency").
//   - A field that is absent, or holds an object rather than a value, matches
//     nothing but {"exists": false}.
//   - {"exists": true} matches a present leaf (null included; an empty array
//     or an object is not a leaf). {"exists": false} matches when no such leaf
//     is present, judged, inside arrays, against the elements that the
//     fields sorting before it were found in, as event-ruler does.
//   - {"anything-but": ...} matches a present value that is not excluded;
//     against an event array it matches if at least one element is not
//     excluded. It never matches a missing field. Excluded strings do not
//     exclude numbers, booleans or null, and excluded numbers only exclude
//     numbers (numerically).
//   - prefix, suffix, equals-ignore-case, wildcard and cidr only match
//     strings; numeric only matches JSON numbers, not numeric strings.
//   - equals-ignore-case lets each pattern character appear as itself or as
//     Java's toLowerCase/toUpperCase (Locale.ROOT) of it, so "straße" matches
//     "STRASSE" but "STRASSE" does not match "straße"; characters outside
//     the Basic Multilingual Plane only match themselves. Both as event-ruler.
//   - A string pattern value that is an IP address also matches other
//     spellings of that address ("2001:db8::1" matches "2001:DB8:0::1").
//   - Dots in field names are not told apart from nesting: {"a.b": ["x"]}
//     matches {"a": {"b": "x"}}, as in event-ruler.
//   - The empty pattern {} matches every event.
//
// Compile refuses what EventBridge refuses with "Event pattern is not
// valid", naming the offending field and the reason; see [PatternError].
package eventpattern

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	matchAll bool
	branches []branch
	root     *trieNode
	nkeys    int

	states sync.Pool // *matchState
}

// Compile parses and validates an EventBridge event pattern (JSON). An
// invalid pattern yields a *PatternError (which errors.Is ErrInvalidPattern)
// naming the offending field path and the reason, for example
// `event pattern is not valid: detail.amount: numeric needs an even list of operator/value pairs`.
func Compile(pattern []byte) (*Pattern, error) {
	return compile(pattern)
}

// MustCompile is Compile for patterns known to be valid, such as literals
// in tests; it panics on an invalid pattern.
func MustCompile(pattern string) *Pattern {
	p, err := Compile([]byte(pattern))
	if err != nil {
		panic(err)
	}
	return p
}

// ErrInvalidEvent is returned by Match when the event is not valid JSON.
var ErrInvalidEvent = errors.New("eventpattern: event is not valid JSON")

// Match reports whether the event, a complete EventBridge event in JSON
// (version, id, detail-type, source, account, time, region, resources,
// detail), matches the pattern. It returns an error, wrapping
// ErrInvalidEvent, only when the event is not valid JSON. An event that is
// valid JSON but not an object has no fields.
func (p *Pattern) Match(event []byte) (bool, error) {
	st := p.getState()
	defer p.putState(st)
	sc := scanner{data: event, st: st}
	if err := sc.document(p.root); err != nil {
		var v any
		if uerr := json.Unmarshal(event, &v); uerr != nil {
			return false, fmt.Errorf("%w: %w", ErrInvalidEvent, uerr)
		}
		return false, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if p.matchAll {
		return true, nil
	}
	if st.duplicateKey {
		// An object repeated a key the pattern looks at. encoding/json keeps
		// the last value of a repeated key; decode the same way so that
		// Match and MatchValue always agree.
		var v any
		if err := unmarshalNumber(event, &v); err != nil {
			return false, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		}
		st.reset()
		st.walk(v, p.root)
	}
	return st.eval(p.branches), nil
}

// MatchValue is Match for an event that is already decoded. The event is
// expected as encoding/json produces it with Decoder.UseNumber: objects as
// map[string]any, arrays as []any, numbers as json.Number, and strings,
// bools and nil. Numbers given as float64 (plain json.Unmarshal), other Go
// integer and float types are accepted too; a float64 is matched by value,
// so it cannot match the exact text of a number too large for a float64.
// Values of any other type are treated as absent.
func (p *Pattern) MatchValue(event any) bool {
	if p.matchAll {
		return true
	}
	st := p.getState()
	defer p.putState(st)
	st.walk(event, p.root)
	return st.eval(p.branches)
}

func (p *Pattern) getState() *matchState {
	if st, ok := p.states.Get().(*matchState); ok {
		return st
	}
	return newMatchState(p.nkeys)
}

func (p *Pattern) putState(st *matchState) {
	if cap(st.arena) > 1<<16 || len(st.failed) > 1<<10 {
		return // grown by an unusual event; let it go rather than keep it
	}
	st.reset()
	p.states.Put(st)
}
