package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is encoding/json's nesting limit, kept so that Match refuses
// exactly the events json.Unmarshal refuses.
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

// scanner reads an event in one pass: it checks the JSON is valid (the same
// grammar encoding/json accepts) and hands the leaves the pattern names to
// the match state, without decoding anything else.
type scanner struct {
	data  []byte
	pos   int
	depth int
	st    *matchState
}

func (sc *scanner) document(root *trieNode) error {
	sc.space()
	var err error
	if sc.peek() == '{' && root != nil {
		err = sc.object(root)
	} else {
		err = sc.skip()
	}
	if err != nil {
		return err
	}
	sc.space()
	if sc.pos != len(sc.data) {
		return errSyntax
	}
	return nil
}

func (sc *scanner) peek() byte {
	if sc.pos < len(sc.data) {
		return sc.data[sc.pos]
	}
	return 0
}

func (sc *scanner) space() {
	for sc.pos < len(sc.data) {
		switch sc.data[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

func (sc *scanner) enter() error {
	sc.depth++
	if sc.depth > maxDepth {
		return errSyntax
	}
	sc.pos++ // the '{' or '['
	return nil
}

// value reads a value at the pattern node n, keeping it if n names a field.
func (sc *scanner) value(n *trieNode) error {
	sc.space()
	c := sc.peek()
	switch {
	case c == '{':
		if n.children == nil {
			return sc.skip()
		}
		return sc.object(n)
	case c == '[':
		return sc.array(n)
	case n.key < 0:
		return sc.skip()
	case c == '"':
		s, err := sc.str()
		if err != nil {
			return err
		}
		sc.st.add(n.key, leaf{kind: kString, s: s})
	case c == '-' || isDigit(c):
		start := sc.pos
		if err := sc.number(); err != nil {
			return err
		}
		text := bytesToString(sc.data[start:sc.pos])
		f, ok := parseNumber(text)
		sc.st.add(n.key, leaf{kind: kNumber, s: text, num: f, numOK: ok})
	case c == 't':
		if err := sc.literal("true"); err != nil {
			return err
		}
		sc.st.add(n.key, leaf{kind: kTrue})
	case c == 'f':
		if err := sc.literal("false"); err != nil {
			return err
		}
		sc.st.add(n.key, leaf{kind: kFalse})
	case c == 'n':
		if err := sc.literal("null"); err != nil {
			return err
		}
		sc.st.add(n.key, leaf{kind: kNull})
	default:
		return errSyntax
	}
	return nil
}

func (sc *scanner) object(n *trieNode) error {
	if err := sc.enter(); err != nil {
		return err
	}
	var seenBuf [4]string
	seen := seenBuf[:0] // keys of this object the pattern uses
	sc.space()
	if sc.peek() == '}' {
		sc.pos++
		sc.depth--
		return nil
	}
	for {
		sc.space()
		if sc.peek() != '"' {
			return errSyntax
		}
		key, err := sc.str()
		if err != nil {
			return err
		}
		sc.space()
		if sc.peek() != ':' {
			return errSyntax
		}
		sc.pos++
		if c := n.child(key); c != nil {
			for _, s := range seen {
				if s == key {
					sc.st.duplicateKey = true
				}
			}
			seen = append(seen, key)
			err = sc.value(c)
		} else {
			err = sc.skip()
		}
		if err != nil {
			return err
		}
		sc.space()
		switch sc.peek() {
		case ',':
			sc.pos++
		case '}':
			sc.pos++
			sc.depth--
			return nil
		default:
			return errSyntax
		}
	}
}

func (sc *scanner) array(n *trieNode) error {
	if err := sc.enter(); err != nil {
		return err
	}
	id := sc.st.enterArray()
	sc.space()
	if sc.peek() == ']' {
		sc.pos++
		sc.depth--
		return nil
	}
	for i := 0; ; i++ {
		sc.st.stack = append(sc.st.stack, arrPos{id, i})
		err := sc.value(n)
		sc.st.stack = sc.st.stack[:len(sc.st.stack)-1]
		if err != nil {
			return err
		}
		sc.space()
		switch sc.peek() {
		case ',':
			sc.pos++
		case ']':
			sc.pos++
			sc.depth--
			return nil
		default:
			return errSyntax
		}
	}
}

// skip checks the value at sc.pos and moves past it.
func (sc *scanner) skip() error {
	sc.space()
	switch c := sc.peek(); {
	case c == '{':
		if err := sc.enter(); err != nil {
			return err
		}
		sc.space()
		if sc.peek() == '}' {
			sc.pos++
			sc.depth--
			return nil
		}
		for {
			sc.space()
			if sc.peek() != '"' {
				return errSyntax
			}
			if _, _, _, err := sc.scanString(); err != nil {
				return err
			}
			sc.space()
			if sc.peek() != ':' {
				return errSyntax
			}
			sc.pos++
			if err := sc.skip(); err != nil {
				return err
			}
			sc.space()
			switch sc.peek() {
			case ',':
				sc.pos++
			case '}':
				sc.pos++
				sc.depth--
				return nil
			default:
				return errSyntax
			}
		}
	case c == '[':
		if err := sc.enter(); err != nil {
			return err
		}
		sc.space()
		if sc.peek() == ']' {
			sc.pos++
			sc.depth--
			return nil
		}
		for {
			if err := sc.skip(); err != nil {
				return err
			}
			sc.space()
			switch sc.peek() {
			case ',':
				sc.pos++
			case ']':
				sc.pos++
				sc.depth--
				return nil
			default:
				return errSyntax
			}
		}
	case c == '"':
		_, _, _, err := sc.scanString()
		return err
	case c == '-' || isDigit(c):
		return sc.number()
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		return sc.literal("null")
	default:
		return errSyntax
	}
}

// str reads a string at sc.pos. Strings without escapes and in valid UTF-8
// are used in place; others are decoded by encoding/json, so that escapes
// and invalid UTF-8 come out exactly as json.Unmarshal has them.
func (sc *scanner) str() (string, error) {
	start, end, plain, err := sc.scanString()
	if err != nil {
		return "", err
	}
	raw := sc.data[start:end]
	if plain || utf8.Valid(raw) && !hasBackslash(raw) {
		return bytesToString(raw), nil
	}
	var s string
	if err := json.Unmarshal(sc.data[start-1:end+1], &s); err != nil {
		return "", errSyntax
	}
	return s, nil
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// scanString moves past the string at sc.pos and returns where its content
// is; plain means the content is ASCII without escapes.
func (sc *scanner) scanString() (start, end int, plain bool, err error) {
	d := sc.data
	i := sc.pos + 1
	start, plain = i, true
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			sc.pos = i + 1
			return start, i, plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(d) {
				return 0, 0, false, errSyntax
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return 0, 0, false, errSyntax
				}
				i += 6
			default:
				return 0, 0, false, errSyntax
			}
		case c < 0x20:
			return 0, 0, false, errSyntax
		case c >= utf8.RuneSelf:
			plain = false
			i++
		default:
			i++
		}
	}
	return 0, 0, false, errSyntax
}

func (sc *scanner) number() error {
	d, i := sc.data, sc.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return errSyntax
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return errSyntax
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return errSyntax
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	sc.pos = i
	return nil
}

func (sc *scanner) literal(word string) error {
	if len(sc.data)-sc.pos < len(word) || string(sc.data[sc.pos:sc.pos+len(word)]) != word {
		return errSyntax
	}
	sc.pos += len(word)
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// bytesToString views b as a string without copying. The strings it makes
// point into the caller's event and live only for one Match: matchState
// clears them before it goes back to the pool.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// unmarshalNumber decodes JSON keeping numbers as json.Number.
func unmarshalNumber(data []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}
