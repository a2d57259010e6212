package eventpattern

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
)

// arrPos says a value sits at index idx of the event array numbered id.
type arrPos struct{ id, idx int }

// field is one leaf of the event under a name the pattern uses, with the
// arrays it sits in (arena[m0:m1]).
type field struct {
	v      leaf
	m0, m1 int
}

// matchState is the scratch space of one match: the event's relevant leaves
// and the search over them. Patterns keep a pool of them.
type matchState struct {
	fields    [][]field // by pattern field (term.key)
	arena     []arrPos  // array positions of all fields
	stack     []arrPos  // arrays around the value being walked
	cur       []arrPos  // array positions of the fields chosen so far
	nextArray int

	shared   []bool // by key: some array holding it also holds another key
	owner    []int  // by array id: the key seen in it, -1 none, -2 several
	computed bool   // shared is up to date

	duplicateKey bool // the scanner met a repeated key the pattern uses

	steps    int                  // search steps in the current branch
	failed   map[memoKey]struct{} // searches known to fail, after memoAfter steps
	relevant [][]bool             // by term: arrays holding leaves of it or later terms
	proj     []arrPos             // scratch for memoKey
	keyBuf   []byte               // scratch for memoKey
}

func newMatchState(nkeys int) *matchState {
	return &matchState{fields: make([][]field, nkeys), shared: make([]bool, nkeys)}
}

func (st *matchState) reset() {
	for i := range st.fields {
		clear(st.fields[i]) // drop references into the caller's event
		st.fields[i] = st.fields[i][:0]
	}
	st.arena, st.stack, st.cur = st.arena[:0], st.stack[:0], st.cur[:0]
	st.nextArray = 0
	st.computed = false
	st.duplicateKey = false
	st.steps = 0
	st.relevant = st.relevant[:0]
	clear(st.failed)
}

func (st *matchState) add(key int, v leaf) {
	m0 := len(st.arena)
	st.arena = append(st.arena, st.stack...)
	st.fields[key] = append(st.fields[key], field{v: v, m0: m0, m1: len(st.arena)})
}

func (st *matchState) enterArray() int {
	id := st.nextArray
	st.nextArray++
	return id
}

// walk collects the leaves of a decoded event that the pattern names.
func (st *matchState) walk(event any, root *trieNode) {
	if obj, ok := event.(map[string]any); ok && root != nil {
		st.walkObject(obj, root)
	}
}

func (st *matchState) walkObject(obj map[string]any, n *trieNode) {
	for k, v := range obj {
		if c := n.child(k); c != nil {
			st.walkValue(v, c)
		}
	}
}

func (st *matchState) walkValue(v any, n *trieNode) {
	switch v := v.(type) {
	case map[string]any:
		if n.children != nil {
			st.walkObject(v, n)
		}
	case []any:
		id := st.enterArray()
		for i, e := range v {
			st.stack = append(st.stack, arrPos{id, i})
			st.walkValue(e, n)
			st.stack = st.stack[:len(st.stack)-1]
		}
	default:
		if n.key < 0 {
			return
		}
		if l, ok := leafOf(v); ok {
			st.add(n.key, l)
		}
	}
}

func leafOf(v any) (leaf, bool) {
	switch v := v.(type) {
	case string:
		return leaf{kind: kString, s: v}, true
	case json.Number:
		f, ok := parseNumber(string(v))
		return leaf{kind: kNumber, s: string(v), num: f, numOK: ok}, true
	case float64:
		return floatLeaf(v), true
	case float32:
		return floatLeaf(float64(v)), true
	case int:
		return intLeaf(int64(v)), true
	case int8:
		return intLeaf(int64(v)), true
	case int16:
		return intLeaf(int64(v)), true
	case int32:
		return intLeaf(int64(v)), true
	case int64:
		return intLeaf(v), true
	case uint:
		return uintLeaf(uint64(v)), true
	case uint8:
		return uintLeaf(uint64(v)), true
	case uint16:
		return uintLeaf(uint64(v)), true
	case uint32:
		return uintLeaf(uint64(v)), true
	case uint64:
		return uintLeaf(v), true
	case bool:
		if v {
			return leaf{kind: kTrue}, true
		}
		return leaf{kind: kFalse}, true
	case nil:
		return leaf{kind: kNull}, true
	}
	return leaf{}, false
}

func floatLeaf(f float64) leaf {
	text := strconv.FormatFloat(f, 'g', -1, 64)
	n, ok := parseNumber(text)
	return leaf{kind: kNumber, s: text, num: n, numOK: ok}
}

func intLeaf(i int64) leaf {
	return leaf{kind: kNumber, s: strconv.FormatInt(i, 10), num: float64(i), numOK: true}
}

func uintLeaf(u uint64) leaf {
	return leaf{kind: kNumber, s: strconv.FormatUint(u, 10), num: float64(u), numOK: true}
}

// memoAfter is how many search steps a branch may take before matchFrom
// starts remembering failures. Ordinary events never get there, so matching
// them allocates nothing; events built to make the search try every
// combination of array elements do, and the memo keeps them fast.
const memoAfter = 2000

// memoKey identifies a failed search: from term i on, given the chosen
// positions (in proj) of the arrays the remaining terms' leaves sit in.
type memoKey struct {
	term int
	proj string
}

// eval reports whether any branch matches the collected leaves.
func (st *matchState) eval(branches []branch) bool {
	for i := range branches {
		b := &branches[i]
		if !st.possible(b) {
			continue
		}
		st.cur = st.cur[:0]
		st.steps = 0
		st.relevant = st.relevant[:0]
		clear(st.failed)
		if st.matchFrom(b, 0) {
			return true
		}
	}
	return false
}

// possible is a quick check that every field the branch needs is there.
func (st *matchState) possible(b *branch) bool {
	for i := range b.terms {
		t := &b.terms[i]
		if !t.absent && len(st.fields[t.key]) == 0 {
			return false
		}
	}
	return true
}

// matchFrom looks for leaves satisfying b.terms[i:], in order, that are
// array-consistent with each other and with those already chosen (st.cur):
// no two may come from different elements of one event array. An
// {"exists": false} term holds when no leaf of its name is consistent with
// the choices made before it. On failure st.cur is left as it was found.
func (st *matchState) matchFrom(b *branch, i int) bool {
	if i == len(b.terms) {
		return true
	}
	st.steps++
	var key memoKey
	memo := st.steps > memoAfter
	if memo {
		key = st.memoKey(b, i)
		if _, failed := st.failed[key]; failed {
			return false
		}
	}
	t := &b.terms[i]
	fs := st.fields[t.key]
	if t.absent && !st.anyConsistent(fs) && st.matchFrom(b, i+1) {
		return true
	}
	base := len(st.cur)
	for j := range fs {
		f := &fs[j]
		if !t.accepts(&f.v) || !st.consistent(f) {
			continue
		}
		st.extend(f)
		if st.matchFrom(b, i+1) {
			return true
		}
		st.cur = st.cur[:base]
		if !t.repeated && !st.isShared(t.key) {
			// The arrays of this leaf hold nothing else the pattern
			// names, so another leaf of the same name would leave the
			// rest of the search exactly as this one did.
			break
		}
	}
	if memo {
		if st.failed == nil {
			st.failed = map[memoKey]struct{}{}
		}
		st.failed[key] = struct{}{}
	}
	return false
}

// memoKey captures all that the search from term i on depends on: the
// positions chosen so far in the arrays that leaves of terms i and later sit
// in.
func (st *matchState) memoKey(b *branch, i int) memoKey {
	rel := st.relevantArrays(b, i)
	proj := st.proj[:0]
	for _, c := range st.cur {
		if rel[c.id] {
			proj = append(proj, c)
		}
	}
	slices.SortFunc(proj, func(x, y arrPos) int { return cmp.Compare(x.id, y.id) })
	buf := st.keyBuf[:0]
	for _, c := range proj {
		buf = binary.AppendUvarint(buf, uint64(c.id))
		buf = binary.AppendUvarint(buf, uint64(c.idx))
	}
	st.proj, st.keyBuf = proj, buf
	return memoKey{term: i, proj: string(buf)}
}

// relevantArrays returns, by array id, whether a leaf of b.terms[i:] sits in
// that array.
func (st *matchState) relevantArrays(b *branch, i int) []bool {
	if len(st.relevant) == 0 {
		// Built from the last term back, each set adding one term's arrays
		// to the next one's.
		st.relevant = make([][]bool, len(b.terms)+1)
		st.relevant[len(b.terms)] = make([]bool, st.nextArray)
		for k := len(b.terms) - 1; k >= 0; k-- {
			set := slices.Clone(st.relevant[k+1])
			for _, f := range st.fields[b.terms[k].key] {
				for _, p := range st.arena[f.m0:f.m1] {
					set[p.id] = true
				}
			}
			st.relevant[k] = set
		}
	}
	return st.relevant[i]
}

func (st *matchState) anyConsistent(fs []field) bool {
	for j := range fs {
		if st.consistent(&fs[j]) {
			return true
		}
	}
	return false
}

func (st *matchState) consistent(f *field) bool {
	for _, p := range st.arena[f.m0:f.m1] {
		for _, c := range st.cur {
			if c.id == p.id && c.idx != p.idx {
				return false
			}
		}
	}
	return true
}

func (st *matchState) extend(f *field) {
outer:
	for _, p := range st.arena[f.m0:f.m1] {
		for _, c := range st.cur {
			if c.id == p.id {
				continue outer
			}
		}
		st.cur = append(st.cur, p)
	}
}

// isShared reports whether some event array holding a leaf of key also holds
// a leaf of another key.
func (st *matchState) isShared(key int) bool {
	if !st.computed {
		st.computeShared()
	}
	return st.shared[key]
}

func (st *matchState) computeShared() {
	st.computed = true
	clear(st.shared)
	st.owner = st.owner[:0]
	for range st.nextArray {
		st.owner = append(st.owner, -1)
	}
	for key, fs := range st.fields {
		for j := range fs {
			for _, p := range st.arena[fs[j].m0:fs[j].m1] {
				switch o := st.owner[p.id]; {
				case o == -1:
					st.owner[p.id] = key
				case o == key:
				case o == -2:
					st.shared[key] = true
				default:
					st.shared[o], st.shared[key] = true, true
					st.owner[p.id] = -2
				}
			}
		}
	}
}
