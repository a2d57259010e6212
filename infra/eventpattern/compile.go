package eventpattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBranches bounds how many alternatives a pattern's $or clauses may
// expand to. Every $or multiplies the alternatives of its siblings, so a
// pattern of a few hundred bytes could otherwise ask for millions.
const maxBranches = 1024

// reservedInOr are the names event-ruler refuses as field names inside an
// $or alternative, where they would be ambiguous with operators.
var reservedInOr = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"=": true, "<": true, "<=": true, ">": true, ">=": true,
	"regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true, "date-on-or-before": true,
	"in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true,
}

// draft is one field of one branch while compiling: its dotted name and what
// it accepts.
type draft struct {
	name     string
	absent   bool // {"exists": false} is among the alternatives
	matchers []matcher
}

// branch is one alternative of the pattern after $or expansion: fields that
// must all match, sorted by name as event-ruler orders them.
type branch struct {
	terms []term
}

type term struct {
	name     string
	key      int  // index into matchState.fields
	absent   bool // {"exists": false} is among the alternatives
	repeated bool // another term of the branch names the same field
	matchers []matcher
}

func (t *term) accepts(v *leaf) bool {
	for i := range t.matchers {
		if t.matchers[i].match(v) {
			return true
		}
	}
	return false
}

// trieNode is one step of a dotted field name. Event keys are split on dots
// too, so "a.b" in the event reaches the same node as "a" then "b".
type trieNode struct {
	children map[string]*trieNode
	key      int // the pattern field ending here, or -1
}

func (n *trieNode) child(name string) *trieNode {
	if n == nil || n.children == nil {
		return nil
	}
	for {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return n.children[name]
		}
		n = n.children[name[:i]]
		if n == nil || n.children == nil {
			return nil
		}
		name = name[i+1:]
	}
}

func (n *trieNode) insert(name string, key int) {
	for _, step := range strings.Split(name, ".") {
		if n.children == nil {
			n.children = map[string]*trieNode{}
		}
		next := n.children[step]
		if next == nil {
			next = &trieNode{key: -1}
			n.children[step] = next
		}
		n = next
	}
	n.key = key
}

func compile(src []byte) (*Pattern, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, invalid("", "pattern is not valid JSON: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("", "pattern has data after the JSON object")
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, invalid("", "pattern must be a JSON object")
	}
	if len(obj) == 0 {
		return &Pattern{matchAll: true}, nil
	}
	drafts, err := compileObject(obj, "", "", false)
	if err != nil {
		return nil, err
	}

	p := &Pattern{root: &trieNode{key: -1}}
	keys := map[string]int{}
	for _, ds := range drafts {
		b := branch{terms: make([]term, 0, len(ds))}
		for _, d := range ds {
			key, ok := keys[d.name]
			if !ok {
				key = len(keys)
				keys[d.name] = key
				p.root.insert(d.name, key)
			}
			b.terms = append(b.terms, term{name: d.name, key: key, absent: d.absent, matchers: d.matchers})
		}
		// event-ruler walks a rule's fields in name order, and an
		// {"exists": false} is judged against the array elements the fields
		// before it were found in; keep that order.
		slices.SortStableFunc(b.terms, func(x, y term) int { return compareUTF16(x.name, y.name) })
		for i := 1; i < len(b.terms); i++ {
			if b.terms[i].key == b.terms[i-1].key {
				b.terms[i].repeated, b.terms[i-1].repeated = true, true
			}
		}
		p.branches = append(p.branches, b)
	}
	p.nkeys = len(keys)
	return p, nil
}

// compileObject compiles the fields of a pattern object whose dotted name is
// name (for matching) and path (for messages). It returns the object's
// branches: each $or in it multiplies them.
func compileObject(obj map[string]any, name, path string, inOr bool) ([][]*draft, error) {
	branches := [][]*draft{nil}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if k == "$or" {
			alts, err := compileOr(v, name, join(path, k))
			if err != nil {
				return nil, err
			}
			if branches, err = cross(branches, alts, join(path, k)); err != nil {
				return nil, err
			}
			continue
		}
		fieldPath := join(path, k)
		if inOr && reservedInOr[k] {
			return nil, invalid(fieldPath, fmt.Sprintf("%q is an operator name and cannot be used as a field name inside $or", k))
		}
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				return nil, invalid(fieldPath, "Empty objects are not allowed")
			}
			sub, err := compileObject(v, join(name, k), fieldPath, inOr)
			if err != nil {
				return nil, err
			}
			if branches, err = cross(branches, sub, fieldPath); err != nil {
				return nil, err
			}
		case []any:
			d, err := compileField(v, join(name, k), fieldPath)
			if err != nil {
				return nil, err
			}
			for i := range branches {
				branches[i] = append(slices.Clip(branches[i]), d)
			}
		default:
			return nil, invalid(fieldPath, "must be an object or an array of match values (EventBridge wants [\"value\"], not \"value\")")
		}
	}
	return branches, nil
}

func compileOr(v any, name, path string) ([][]*draft, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, invalid(path, "$or must be an array of at least 2 objects")
	}
	if len(arr) < 2 {
		return nil, invalid(path, "$or needs at least 2 alternatives")
	}
	var out [][]*draft
	for i, a := range arr {
		altPath := fmt.Sprintf("%s[%d]", path, i)
		obj, ok := a.(map[string]any)
		if !ok {
			return nil, invalid(altPath, "$or alternatives must be objects")
		}
		if len(obj) == 0 {
			return nil, invalid(altPath, "Empty objects are not allowed")
		}
		sub, err := compileObject(obj, name, altPath, true)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
		if len(out) > maxBranches {
			return nil, tooManyBranches(path)
		}
	}
	return out, nil
}

// cross returns every branch of a combined with every branch of b.
func cross(a, b [][]*draft, path string) ([][]*draft, error) {
	if len(a)*len(b) > maxBranches {
		return nil, tooManyBranches(path)
	}
	out := make([][]*draft, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, slices.Concat(x, y))
		}
	}
	return out, nil
}

func tooManyBranches(path string) error {
	return invalid(path, fmt.Sprintf("pattern is too complex: its $or alternatives combine into more than %d branches", maxBranches))
}

// compileField compiles the array of match values of one field.
func compileField(values []any, name, path string) (*draft, error) {
	if len(values) == 0 {
		return nil, invalid(path, "Empty arrays are not allowed")
	}
	d := &draft{name: name}
	for _, v := range values {
		switch v := v.(type) {
		case string:
			d.matchers = append(d.matchers, stringMatcher(v))
		case json.Number:
			f, ok := parseNumber(string(v))
			d.matchers = append(d.matchers, matcher{op: opNumber, s: string(v), num: f, numOK: ok})
		case bool:
			if v {
				d.matchers = append(d.matchers, matcher{op: opTrue})
			} else {
				d.matchers = append(d.matchers, matcher{op: opFalse})
			}
		case nil:
			d.matchers = append(d.matchers, matcher{op: opNull})
		case map[string]any:
			m, absent, err := compileOperator(v, path)
			if err != nil {
				return nil, err
			}
			if absent {
				d.absent = true
			} else {
				d.matchers = append(d.matchers, m)
			}
		default:
			return nil, invalid(path, "match values must be strings, numbers, true, false, null or operator objects")
		}
	}
	return d, nil
}

// compileOperator compiles one {"operator": operand} match value. absent
// reports {"exists": false}, which is not a value matcher.
func compileOperator(obj map[string]any, path string) (m matcher, absent bool, err error) {
	op, v, err := onlyKey(obj, path)
	if err != nil {
		return matcher{}, false, err
	}
	switch op {
	case "prefix", "suffix":
		switch v := v.(type) {
		case string:
			if op == "prefix" {
				return matcher{op: opPrefix, s: v}, false, nil
			}
			return matcher{op: opSuffix, s: v}, false, nil
		case map[string]any:
			s, err := ignoreCaseOperand(v, op, path)
			if err != nil {
				return matcher{}, false, err
			}
			if op == "prefix" {
				return matcher{op: opPrefixFold, fold: newFold(s)}, false, nil
			}
			return matcher{op: opSuffixFold, fold: newFold(s)}, false, nil
		default:
			return matcher{}, false, invalid(path, op+` must be a string or {"equals-ignore-case": "..."}`)
		}
	case "equals-ignore-case":
		s, ok := v.(string)
		if !ok {
			return matcher{}, false, invalid(path, "equals-ignore-case must be a string")
		}
		return matcher{op: opEqualsFold, fold: newFold(s)}, false, nil
	case "exactly":
		s, ok := v.(string)
		if !ok {
			return matcher{}, false, invalid(path, "exactly must be a string")
		}
		return matcher{op: opExactly, s: s}, false, nil
	case "wildcard":
		s, ok := v.(string)
		if !ok {
			return matcher{}, false, invalid(path, "wildcard must be a string")
		}
		w, err := newWildcard(s)
		if err != nil {
			return matcher{}, false, invalid(path, "wildcard "+strconv.Quote(s)+": "+err.Error())
		}
		return matcher{op: opWildcard, wild: w}, false, nil
	case "exists":
		b, ok := v.(bool)
		if !ok {
			return matcher{}, false, invalid(path, "exists match pattern must be either true or false")
		}
		if !b {
			return matcher{}, true, nil
		}
		return matcher{op: opExists}, false, nil
	case "cidr":
		s, ok := v.(string)
		if !ok {
			return matcher{}, false, invalid(path, "cidr must be a string")
		}
		prefix, err := parseCIDR(s)
		if err != nil {
			return matcher{}, false, invalid(path, "cidr "+strconv.Quote(s)+": "+err.Error())
		}
		return matcher{op: opCIDR, cidr: prefix}, false, nil
	case "numeric":
		m, err := compileNumeric(v, path)
		return m, false, err
	case "anything-but":
		m, err := compileAnythingBut(v, path)
		return m, false, err
	default:
		return matcher{}, false, invalid(path, fmt.Sprintf("unknown operator %q (Unrecognized match type)", op))
	}
}

func onlyKey(obj map[string]any, path string) (string, any, error) {
	if len(obj) != 1 {
		return "", nil, invalid(path, fmt.Sprintf("Only one key allowed in match expression, found %d", len(obj)))
	}
	for k, v := range obj {
		return k, v, nil
	}
	panic("unreachable")
}

// ignoreCaseOperand reads the {"equals-ignore-case": "..."} of a prefix or
// suffix.
func ignoreCaseOperand(obj map[string]any, op, path string) (string, error) {
	k, v, err := onlyKey(obj, path)
	if err != nil {
		return "", err
	}
	if k != "equals-ignore-case" {
		return "", invalid(path, fmt.Sprintf("unsupported %s operator %q: only equals-ignore-case can be nested in %s", op, k, op))
	}
	s, ok := v.(string)
	if !ok {
		return "", invalid(path, "equals-ignore-case must be a string")
	}
	return s, nil
}

func compileNumeric(v any, path string) (matcher, error) {
	arr, ok := v.([]any)
	if !ok {
		return matcher{}, invalid(path, `numeric must be an array of operator/value pairs, such as [">", 0, "<=", 5]`)
	}
	if len(arr) == 0 || len(arr)%2 != 0 {
		return matcher{}, invalid(path, "numeric needs an even list of operator/value pairs")
	}
	if len(arr) > 4 {
		return matcher{}, invalid(path, "numeric allows at most two operator/value pairs (a lower and an upper bound)")
	}
	type bound struct {
		op  string
		val float64
	}
	bounds := make([]bound, 0, 2)
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		if !ok {
			return matcher{}, invalid(path, fmt.Sprintf("numeric operator must be a string, got %s", jsonKind(arr[i])))
		}
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return matcher{}, invalid(path, fmt.Sprintf("unknown numeric operator %q (use =, <, <=, > or >=)", op))
		}
		n, ok := arr[i+1].(json.Number)
		if !ok {
			return matcher{}, invalid(path, fmt.Sprintf("numeric operator %q needs a number, got %s", op, jsonKind(arr[i+1])))
		}
		f, ok := parseNumber(string(n))
		if !ok {
			return matcher{}, invalid(path, fmt.Sprintf("numeric value %s is out of range", n))
		}
		bounds = append(bounds, bound{op, f})
	}
	m := matcher{op: opRange}
	if len(bounds) == 1 {
		b := bounds[0]
		switch b.op {
		case "=":
			m.lo, m.hi, m.hasLo, m.hasHi, m.loIncl, m.hiIncl = b.val, b.val, true, true, true, true
		case ">", ">=":
			m.lo, m.hasLo, m.loIncl = b.val, true, b.op == ">="
		case "<", "<=":
			m.hi, m.hasHi, m.hiIncl = b.val, true, b.op == "<="
		}
		return m, nil
	}
	lo, hi := bounds[0], bounds[1]
	if lo.op == "=" || hi.op == "=" {
		return matcher{}, invalid(path, `numeric "=" cannot be combined with another operator`)
	}
	if (lo.op != ">" && lo.op != ">=") || (hi.op != "<" && hi.op != "<=") {
		return matcher{}, invalid(path, "a numeric range is a lower bound (> or >=) followed by an upper bound (< or <=)")
	}
	if lo.val >= hi.val {
		return matcher{}, invalid(path, "numeric range lower bound must be less than its upper bound (Bottom must be less than top)")
	}
	m.lo, m.hasLo, m.loIncl = lo.val, true, lo.op == ">="
	m.hi, m.hasHi, m.hiIncl = hi.val, true, hi.op == "<="
	return m, nil
}

func compileAnythingBut(v any, path string) (matcher, error) {
	switch v := v.(type) {
	case string:
		return matcher{op: opNotStrings, strs: []string{v}}, nil
	case json.Number:
		f, ok := parseNumber(string(v))
		if !ok {
			return matcher{}, invalid(path, fmt.Sprintf("anything-but number %s is out of range", v))
		}
		return matcher{op: opNotNumbers, nums: []float64{f}}, nil
	case []any:
		if len(v) == 0 {
			return matcher{}, invalid(path, "anything-but list must not be empty")
		}
		var strs []string
		var nums []float64
		for _, e := range v {
			switch e := e.(type) {
			case string:
				strs = append(strs, e)
			case json.Number:
				f, ok := parseNumber(string(e))
				if !ok {
					return matcher{}, invalid(path, fmt.Sprintf("anything-but number %s is out of range", e))
				}
				nums = append(nums, f)
			default:
				return matcher{}, invalid(path, "anything-but list must contain only strings or only numbers, got "+jsonKind(e))
			}
		}
		if len(strs) > 0 && len(nums) > 0 {
			return matcher{}, invalid(path, "anything-but list must contain only strings or only numbers, not both")
		}
		if len(nums) > 0 {
			return matcher{op: opNotNumbers, nums: nums}, nil
		}
		return matcher{op: opNotStrings, strs: strs}, nil
	case map[string]any:
		op, operand, err := onlyKey(v, path)
		if err != nil {
			return matcher{}, err
		}
		switch op {
		case "prefix", "suffix", "equals-ignore-case", "wildcard":
		default:
			return matcher{}, invalid(path, fmt.Sprintf("unsupported anything-but operator %q (use prefix, suffix, equals-ignore-case or wildcard)", op))
		}
		strs, err := stringOrStrings(operand, "anything-but "+op, path)
		if err != nil {
			return matcher{}, err
		}
		switch op {
		case "prefix", "suffix":
			for _, s := range strs {
				if s == "" {
					return matcher{}, invalid(path, "anything-but "+op+" must not be empty (Null prefix/suffix not allowed)")
				}
			}
			if op == "prefix" {
				return matcher{op: opNotPrefixes, strs: strs}, nil
			}
			return matcher{op: opNotSuffixes, strs: strs}, nil
		case "equals-ignore-case":
			m := matcher{op: opNotFolds}
			for _, s := range strs {
				m.folds = append(m.folds, newFold(s))
			}
			return m, nil
		default: // wildcard
			m := matcher{op: opNotWildcards}
			for _, s := range strs {
				w, err := newWildcard(s)
				if err != nil {
					return matcher{}, invalid(path, "anything-but wildcard "+strconv.Quote(s)+": "+err.Error())
				}
				m.wilds = append(m.wilds, w)
			}
			return m, nil
		}
	default:
		return matcher{}, invalid(path, "anything-but must be a string, a number, a list of only strings or only numbers, or an object with prefix, suffix, equals-ignore-case or wildcard")
	}
}

func stringOrStrings(v any, what, path string) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, invalid(path, what+" list must not be empty")
		}
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, invalid(path, what+" must be a string or a list of strings, got "+jsonKind(e))
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, invalid(path, what+" must be a string or a list of strings, got "+jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// compareUTF16 orders strings as Java's String.compareTo does (by UTF-16
// code unit), which is how event-ruler sorts field names.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return int(utf16Order(ra)) - int(utf16Order(rb))
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// utf16Order maps a rune to a key that sorts like its UTF-16 encoding:
// characters outside the Basic Multilingual Plane are surrogate pairs,
// which sort after U+D7FF and before U+E000.
func utf16Order(r rune) rune {
	switch {
	case r < 0xD800:
		return r
	case r >= 0x10000:
		return 0xD800 + (r - 0x10000)
	default:
		return r + 0x110000
	}
}
