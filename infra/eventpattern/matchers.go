package eventpattern

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// kind is the JSON type of an event leaf.
type kind uint8

const (
	kString kind = iota + 1
	kNumber
	kTrue
	kFalse
	kNull
)

// leaf is one value of an event field.
type leaf struct {
	kind  kind
	s     string  // the string, or the number's JSON text
	num   float64 // the number, when numOK
	numOK bool
}

type op uint8

const (
	opExists op = iota + 1
	opString
	opNumber
	opTrue
	opFalse
	opNull
	opExactly
	opPrefix
	opSuffix
	opPrefixFold
	opSuffixFold
	opEqualsFold
	opWildcard
	opRange
	opCIDR
	opNotStrings
	opNotNumbers
	opNotPrefixes
	opNotSuffixes
	opNotFolds
	opNotWildcards
)

// matcher is one compiled match value of a pattern field.
type matcher struct {
	op op

	s     string     // opString, opNumber (JSON text), opExactly, opPrefix, opSuffix
	ip    netip.Addr // opString: the address, when s is an IP address
	num   float64    // opNumber
	numOK bool       // opNumber: num is valid

	lo, hi                       float64 // opRange
	hasLo, hasHi, loIncl, hiIncl bool

	cidr  netip.Prefix // opCIDR
	fold  *fold        // opPrefixFold, opSuffixFold, opEqualsFold
	wild  *wildcard    // opWildcard
	strs  []string     // opNotStrings, opNotPrefixes, opNotSuffixes
	nums  []float64    // opNotNumbers
	folds []*fold      // opNotFolds
	wilds []*wildcard  // opNotWildcards
}

func stringMatcher(s string) matcher {
	m := matcher{op: opString, s: s}
	if addr, ok := parseIP(s); ok {
		m.ip = addr
	}
	return m
}

func (m *matcher) match(v *leaf) bool {
	switch m.op {
	case opExists:
		return true
	case opString:
		if v.kind != kString {
			return false
		}
		if v.s == m.s {
			return true
		}
		if !m.ip.IsValid() {
			return false
		}
		addr, ok := parseIP(v.s)
		return ok && addr == m.ip
	case opNumber:
		return v.kind == kNumber && (v.s == m.s || (m.numOK && v.numOK && v.num == m.num))
	case opTrue:
		return v.kind == kTrue
	case opFalse:
		return v.kind == kFalse
	case opNull:
		return v.kind == kNull
	case opExactly:
		return v.kind == kString && v.s == m.s
	case opPrefix:
		return v.kind == kString && hasPrefixQuoted(v.s, m.s)
	case opSuffix:
		return v.kind == kString && hasSuffixQuoted(v.s, m.s)
	case opPrefixFold:
		return v.kind == kString && m.fold.prefixOf(v.s)
	case opSuffixFold:
		return v.kind == kString && m.fold.suffixOf(v.s)
	case opEqualsFold:
		return v.kind == kString && m.fold.equal(v.s)
	case opWildcard:
		return v.kind == kString && m.wild.match(v.s)
	case opRange:
		return v.kind == kNumber && v.numOK && m.inRange(v.num)
	case opCIDR:
		if v.kind != kString {
			return false
		}
		addr, ok := parseIP(v.s)
		return ok && m.cidr.Contains(addr)
	case opNotStrings:
		return v.kind != kString || !slices.Contains(m.strs, v.s)
	case opNotNumbers:
		return v.kind != kNumber || !v.numOK || !slices.Contains(m.nums, v.num)
	case opNotPrefixes:
		if v.kind == kString {
			for _, p := range m.strs {
				if hasPrefixQuoted(v.s, p) {
					return false
				}
			}
		}
		return true
	case opNotSuffixes:
		if v.kind == kString {
			for _, s := range m.strs {
				if hasSuffixQuoted(v.s, s) {
					return false
				}
			}
		}
		return true
	case opNotFolds:
		if v.kind == kString {
			for _, f := range m.folds {
				if f.equal(v.s) {
					return false
				}
			}
		}
		return true
	case opNotWildcards:
		if v.kind == kString {
			for _, w := range m.wilds {
				if w.match(v.s) {
					return false
				}
			}
		}
		return true
	}
	return false
}

func (m *matcher) inRange(f float64) bool {
	if m.hasLo && (f < m.lo || (f == m.lo && !m.loIncl)) {
		return false
	}
	if m.hasHi && (f > m.hi || (f == m.hi && !m.hiIncl)) {
		return false
	}
	return true
}

// parseNumber reads a JSON number as a float64; ok is false when it does not
// fit one.
func parseNumber(text string) (float64, bool) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// event-ruler compares a string value in its JSON form, quotes included,
// against a prefix written as `"`+prefix and a suffix written as suffix+`"`.
// That is strings.HasPrefix and HasSuffix, except that a prefix ending in a
// quote (or a suffix starting with one) can cover the whole value: prefix
// `abc"` matches "abc". hasPrefixQuoted and hasSuffixQuoted keep that.
func hasPrefixQuoted(v, p string) bool {
	if len(p) <= len(v) {
		return v[:len(p)] == p
	}
	return len(p) == len(v)+1 && p[len(v)] == '"' && p[:len(v)] == v
}

func hasSuffixQuoted(v, s string) bool {
	if len(s) <= len(v) {
		return v[len(v)-len(s):] == s
	}
	return len(s) == len(v)+1 && s[0] == '"' && s[1:] == v
}

// fold matches strings case-insensitively the way event-ruler does: each
// character of the pattern may appear in the event as itself, or as what
// Java's toLowerCase or toUpperCase (Locale.ROOT) make of it, which may be
// several characters ("ß" upper-cases to "SS"). event-ruler folds UTF-16
// units one at a time, so characters outside the Basic Multilingual Plane
// (surrogate pairs) only match themselves.
type fold struct {
	ascii bool
	lower string     // ascii: the pattern, lower-cased
	units [][]string // otherwise: the spellings of each pattern character
	quote bool       // the pattern contains '"' (see hasPrefixQuoted)
}

func newFold(pattern string) *fold {
	f := &fold{quote: strings.IndexByte(pattern, '"') >= 0}
	ascii := true
	for i := 0; i < len(pattern); i++ {
		if pattern[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		f.ascii = true
		f.lower = strings.ToLower(pattern)
		return f
	}
	upper, lower := cases.Upper(language.Und), cases.Lower(language.Und)
	for _, r := range pattern {
		c := string(r)
		unit := []string{c}
		if r <= 0xFFFF {
			for _, alt := range []string{lower.String(c), upper.String(c)} {
				if !slices.Contains(unit, alt) {
					unit = append(unit, alt)
				}
			}
		}
		f.units = append(f.units, unit)
	}
	return f
}

func (f *fold) equal(s string) bool {
	if f.ascii {
		return len(s) == len(f.lower) && asciiEqualFold(s, f.lower)
	}
	return f.forward(s, true)
}

func (f *fold) prefixOf(s string) bool {
	if f.ascii {
		n := len(f.lower)
		if n <= len(s) {
			return asciiEqualFold(s[:n], f.lower)
		}
		return n == len(s)+1 && f.lower[n-1] == '"' && asciiEqualFold(s, f.lower[:n-1])
	}
	if f.quote {
		return f.forward(s+`"`, false)
	}
	return f.forward(s, false)
}

func (f *fold) suffixOf(s string) bool {
	if f.ascii {
		n := len(f.lower)
		if n <= len(s) {
			return asciiEqualFold(s[len(s)-n:], f.lower)
		}
		return n == len(s)+1 && f.lower[0] == '"' && asciiEqualFold(s, f.lower[1:])
	}
	if f.quote {
		return f.backward(`"` + s)
	}
	return f.backward(s)
}

// forward reports whether the pattern matches a prefix of s, or all of s
// when whole is set. Since spellings differ in length, it tracks every
// position of s the pattern so far can end at.
func (f *fold) forward(s string, whole bool) bool {
	var bufA, bufB [4]int
	pos, spare := append(bufA[:0], 0), bufB[:0]
	for _, unit := range f.units {
		next := spare[:0]
		for _, p := range pos {
			for _, alt := range unit {
				if strings.HasPrefix(s[p:], alt) && !slices.Contains(next, p+len(alt)) {
					next = append(next, p+len(alt))
				}
			}
		}
		if len(next) == 0 {
			return false
		}
		pos, spare = next, pos
	}
	return !whole || slices.Contains(pos, len(s))
}

// backward reports whether the pattern matches a suffix of s.
func (f *fold) backward(s string) bool {
	var bufA, bufB [4]int
	pos, spare := append(bufA[:0], len(s)), bufB[:0]
	for i := len(f.units) - 1; i >= 0; i-- {
		next := spare[:0]
		for _, p := range pos {
			for _, alt := range f.units[i] {
				if strings.HasSuffix(s[:p], alt) && !slices.Contains(next, p-len(alt)) {
					next = append(next, p-len(alt))
				}
			}
		}
		if len(next) == 0 {
			return false
		}
		pos, spare = next, pos
	}
	return true
}

// asciiEqualFold compares s with lower, an ASCII lower-case string of the
// same length, folding only ASCII letters in s.
func asciiEqualFold(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// wildcard is a compiled wildcard pattern: literal segments separated by
// '*', each '*' matching any run of bytes, empty included.
type wildcard struct {
	segs []string // one segment and no '*' for a plain string
}

// newWildcard compiles a wildcard operand. `\*` is a literal star and `\\` a
// literal backslash; any other escape and "**" are refused with
// event-ruler's messages, whose positions count the quote event-ruler puts
// before the operand.
func newWildcard(p string) (*wildcard, error) {
	var segs []string
	var cur []byte
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				return nil, fmt.Errorf("Consecutive wildcard characters at pos %d", i+1)
			}
			segs = append(segs, string(cur))
			cur = cur[:0]
		case '\\':
			if i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '\\') {
				cur = append(cur, p[i+1])
				i++
				continue
			}
			return nil, fmt.Errorf("Invalid escape character at pos %d", i+1)
		default:
			cur = append(cur, c)
		}
	}
	return &wildcard{segs: append(segs, string(cur))}, nil
}

func (w *wildcard) match(s string) bool {
	segs := w.segs
	if len(segs) == 1 {
		return s == segs[0]
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// Between the fixed ends, taking each middle segment at its leftmost
	// occurrence leaves the most room for the rest.
	mid := s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(mid, seg)
		if i < 0 {
			return false
		}
		mid = mid[i+len(seg):]
	}
	return true
}

// parseIP reads an IP address as event-ruler does: text shaped like an IPv4
// or IPv6 literal (no zone, no embedded dotted IPv4), with IPv4-mapped IPv6
// addresses read as IPv4, as Java's InetAddress does.
func parseIP(s string) (netip.Addr, bool) {
	if !looksLikeIPv4(s) && !looksLikeIPv6(s) {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

// looksLikeIPv4 is event-ruler's [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ .
func looksLikeIPv4(s string) bool {
	dots, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.' && digits > 0 && dots < 3:
			dots++
			digits = 0
		default:
			return false
		}
	}
	return dots == 3 && digits > 0
}

// looksLikeIPv6 is event-ruler's [0-9a-fA-F:]*:[0-9a-fA-F:]* .
func looksLikeIPv6(s string) bool {
	colon := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			colon = true
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return colon
}

// parseCIDR reads a cidr operand, refusing what event-ruler refuses.
func parseCIDR(s string) (netip.Prefix, error) {
	ipText, bitsText, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(bitsText, "/") {
		return netip.Prefix{}, errors.New("Malformed CIDR, one '/' required")
	}
	bits, err := strconv.Atoi(bitsText)
	if err != nil {
		return netip.Prefix{}, errors.New("Malformed CIDR, mask bits must be an integer")
	}
	if bits < 0 {
		return netip.Prefix{}, errors.New("Malformed CIDR, mask bits must not be negative")
	}
	addr, ok := parseIP(ipText)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("Nonstandard IP address: %s", ipText)
	}
	if addr.Is4() && bits > 31 {
		return netip.Prefix{}, errors.New("IPv4 mask bits must be < 32")
	}
	if addr.Is6() && bits > 127 {
		return netip.Prefix{}, errors.New("IPv6 mask bits must be < 128")
	}
	return netip.PrefixFrom(addr, bits).Masked(), nil
}
