package attendance

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Genesis is the previous hash of an employee's first record.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// RecordType says what a chain record is.
type RecordType string

// Record types. Nothing in a chain is ever edited or deleted: corrections
// and resolutions are new records that refer to the original.
const (
	TypePunch      RecordType = "punch"
	TypeCorrection RecordType = "correction" // an approved correction request
	TypeResolution RecordType = "resolution" // a field punch approved or rejected
)

// Ref points at an earlier record of the same chain.
type Ref struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Record is one link of an employee's punch chain.
type Record struct {
	// Tenant and Employee are covered by the hashes but not stored in the
	// item's data: its key holds them.
	Tenant   string     `json:"tenant,omitempty"`
	Employee EmployeeID `json:"employee,omitempty"`
	Seq      int64      `json:"seq"`
	Type     RecordType `json:"type"`
	Time     time.Time  `json:"time"` // server time of the append, UTC

	// Punches. (The idempotency key is kept in its marker item, which
	// names the record.)
	Request  *Request  `json:"request,omitempty"`
	Decision *Decision `json:"decision,omitempty"`

	// Corrections and resolutions.
	Refers     *Ref        `json:"refers,omitempty"`
	Correction *Correction `json:"correction,omitempty"`
	Resolution *Resolution `json:"resolution,omitempty"`

	Prev        string `json:"prev"`                  // Hash of record Seq-1 (Genesis for the first)
	ContentHash string `json:"contentHash,omitempty"` // SHA-256 of the content (domain-separated); recomputed on read, not stored
	Hash        string `json:"hash"`                  // SHA-256 over Seq, Prev and ContentHash (domain-separated)
}

// Resolution is a manager's or admin's answer to a pending field punch.
type Resolution struct {
	Approved bool   `json:"approved"`
	By       string `json:"by"`
	Note     string `json:"note,omitempty"`
}

// storedForm is the record as the table keeps it: reasons without their
// rendered messages.
func (r Record) storedForm() Record {
	r.Decision = r.Decision.stored()
	r.Tenant, r.Employee, r.ContentHash = "", "", ""
	return r
}

// decodeStored reads a stored record of the tenant's employee, its
// content hash recomputed (the hash check is the caller's).
func decodeStored(tenant string, emp EmployeeID, data []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, err
	}
	r.Tenant, r.Employee = tenant, emp
	c, err := contentHash(r)
	if err != nil {
		return Record{}, err
	}
	r.ContentHash = c
	return r, nil
}

// explained is the record with its reasons' messages rendered.
func (r Record) explained() Record {
	if r.Decision != nil {
		d := *r.Decision
		d.Reasons = append([]Reason(nil), d.Reasons...)
		d.explain()
		r.Decision = &d
	}
	return r
}

// Link is what a proof needs of a later record: its place and content hash.
type Link struct {
	Seq         int64  `json:"seq"`
	ContentHash string `json:"contentHash"`
}

const (
	contentDomain = "lantau.attendance.record.v1\x00"
	linkDomain    = "lantau.attendance.link.v1\x00"
)

// contentHash hashes the record without its chain fields. Every content
// field, including tenant, employee and seq, is covered.
func contentHash(r Record) (string, error) {
	r.Prev, r.ContentHash, r.Hash = "", "", ""
	r.Time = r.Time.UTC()
	r.Decision = r.Decision.stored() // messages are rendered, not stored
	body, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("attendance record: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(contentDomain))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// LinkHash is the hash of record seq from the previous record's hash and
// its own content hash (hex strings); a malformed hex input yields "".
func LinkHash(seq int64, prev, content string) string {
	p, err1 := hex.DecodeString(prev)
	c, err2 := hex.DecodeString(content)
	if err1 != nil || err2 != nil || len(p) != sha256.Size || len(c) != sha256.Size {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(linkDomain))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(seq))
	h.Write(n[:])
	h.Write(p)
	h.Write(c)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal computes the record's ContentHash and Hash from its content, Seq
// and Prev.
func Seal(r Record) (Record, error) {
	r.Time = r.Time.UTC()
	c, err := contentHash(r)
	if err != nil {
		return r, err
	}
	r.ContentHash = c
	r.Hash = LinkHash(r.Seq, r.Prev, c)
	if r.Hash == "" {
		return r, fmt.Errorf("attendance record %d: previous hash %q is not SHA-256 hex", r.Seq, r.Prev)
	}
	return r, nil
}

// Break is the first place a chain is broken.
type Break struct {
	Seq    int64  `json:"seq"`
	Kind   string `json:"kind"` // altered, reordered, missing, inserted, unreadable
	Detail string `json:"detail"`
}

// ChainReport is the result of verifying one employee's chain.
type ChainReport struct {
	Employee EmployeeID `json:"employee"`
	Records  int64      `json:"records"`
	Head     int64      `json:"head"`
	Valid    bool       `json:"valid"`
	First    *Break     `json:"firstProblem,omitempty"`
}

// chainVerifier checks records in stored order against the head.
type chainVerifier struct {
	tenant   string
	rep      ChainReport
	expected int64
	prevHash string
	headSeq  int64
	headHash string
}

func newChainVerifier(tenant string, emp EmployeeID, headSeq int64, headHash string) *chainVerifier {
	return &chainVerifier{tenant: tenant, rep: ChainReport{Employee: emp, Head: headSeq}, expected: 1, prevHash: Genesis, headSeq: headSeq, headHash: headHash}
}

func (v *chainVerifier) fail(seq int64, kind, format string, args ...any) bool {
	v.rep.First = &Break{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	return false
}

// next checks the record stored at position pos; false once broken.
func (v *chainVerifier) next(pos int64, data []byte) bool {
	r, err := decodeStored(v.tenant, v.rep.Employee, data)
	if err != nil {
		return v.fail(pos, "unreadable", "record %d does not decode", pos)
	}
	switch {
	case pos > v.headSeq:
		return v.fail(pos, "inserted", "record %d is beyond the chain's head (%d)", pos, v.headSeq)
	case pos > v.expected:
		return v.fail(v.expected, "missing", "record %d is missing (the next stored record is %d)", v.expected, pos)
	case r.Seq != pos:
		return v.fail(pos, "reordered", "the record stored at position %d says it is record %d", pos, r.Seq)
	}
	switch {
	case LinkHash(r.Seq, r.Prev, r.ContentHash) != r.Hash:
		return v.fail(pos, "altered", "record %d's content no longer matches its hash", pos)
	case r.Prev != v.prevHash:
		if pos > 1 {
			return v.fail(pos-1, "altered", "record %d was changed: record %d links to a different hash", pos-1, pos)
		}
		return v.fail(pos, "altered", "record %d does not start from the genesis hash", pos)
	}
	v.expected, v.prevHash = pos+1, r.Hash
	v.rep.Records++
	return true
}

func (v *chainVerifier) finish() ChainReport {
	if v.rep.First != nil {
		return v.rep
	}
	last := v.expected - 1
	if last < v.headSeq {
		v.fail(last+1, "missing", "records %d to %d are missing", last+1, v.headSeq)
		return v.rep
	}
	if v.prevHash != v.headHash {
		v.fail(last, "altered", "record %d does not match the chain's head", last)
		return v.rep
	}
	v.rep.Valid = true
	return v.rep
}
