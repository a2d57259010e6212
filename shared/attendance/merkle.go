package attendance

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Leaf is one chain head in a company's daily Merkle tree.
type Leaf struct {
	Employee EmployeeID `json:"employee"`
	Seq      int64      `json:"seq"`
	Hash     string     `json:"hash"`
}

// Hashing as RFC 6962 (Certificate Transparency) does, with its domain
// separation: a leaf is SHA-256(0x00 || leaf data), an inner node
// SHA-256(0x01 || left || right), so that no leaf can pass for a node. The
// leaf data is a version tag, the length-prefixed employee ID, the head's
// seq and its hash.
const leafTag = "lantau.attendance.head.v1"

// LeafHash is the tree hash of a leaf.
func LeafHash(l Leaf) [32]byte {
	h := sha256.New()
	h.Write([]byte{0x00})
	h.Write([]byte(leafTag))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(l.Employee)))
	h.Write(n[:])
	h.Write([]byte(l.Employee))
	binary.BigEndian.PutUint64(n[:], uint64(l.Seq))
	h.Write(n[:])
	h.Write([]byte(l.Hash))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func nodeHash(l, r [32]byte) [32]byte {
	var buf [65]byte
	buf[0] = 0x01
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// SortLeaves orders leaves by employee ID, the tree's order.
func SortLeaves(ls []Leaf) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].Employee < ls[j].Employee })
}

// MerkleRoot is the RFC 6962 tree hash of the leaves in the order given
// (SortLeaves first); the empty tree's root is SHA-256 of nothing.
func MerkleRoot(leaves []Leaf) [32]byte {
	if len(leaves) == 0 {
		return sha256.Sum256(nil)
	}
	level := make([][32]byte, len(leaves))
	for i, l := range leaves {
		level[i] = LeafHash(l)
	}
	return mth(level)
}

// mth is MTH over already hashed leaves (RFC 6962 section 2.1).
func mth(hs [][32]byte) [32]byte {
	if len(hs) == 1 {
		return hs[0]
	}
	k := split(len(hs))
	return nodeHash(mth(hs[:k]), mth(hs[k:]))
}

// split is the largest power of two smaller than n (n > 1).
func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// InclusionPath is the RFC 6962 audit path of leaf m among the leaves.
func InclusionPath(leaves []Leaf, m int) [][32]byte {
	hs := make([][32]byte, len(leaves))
	for i, l := range leaves {
		hs[i] = LeafHash(l)
	}
	return path(m, hs)
}

func path(m int, hs [][32]byte) [][32]byte {
	if len(hs) <= 1 {
		return nil
	}
	k := split(len(hs))
	if m < k {
		return append(path(m, hs[:k]), mth(hs[k:]))
	}
	return append(path(m-k, hs[k:]), mth(hs[:k]))
}

// VerifyInclusion checks an audit path of the leaf at index in a tree of
// size leaves against root (RFC 9162 section 2.1.3.2).
func VerifyInclusion(leaf [32]byte, index, size int, proof [][32]byte, root [32]byte) bool {
	if index < 0 || index >= size {
		return false
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range proof {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}

// Signer signs daily roots (Ed25519; in AWS a KMS key or a key from
// Secrets Manager behind an adapter).
type Signer interface {
	KeyID() string
	Sign(ctx context.Context, message []byte) ([]byte, error)
}

// Ed25519Signer signs with a private key held in memory.
type Ed25519Signer struct {
	ID  string
	Key ed25519.PrivateKey
}

// KeyID names the key.
func (s Ed25519Signer) KeyID() string { return s.ID }

// Sign signs the message.
func (s Ed25519Signer) Sign(_ context.Context, message []byte) ([]byte, error) {
	return ed25519.Sign(s.Key, message), nil
}

// SignedRoot is a company's daily Merkle root over its chain heads.
type SignedRoot struct {
	Tenant     string    `json:"tenant"`
	Date       string    `json:"date"` // 2006-01-02, the day it covers
	Size       int       `json:"size"` // number of leaves
	Root       string    `json:"root"` // hex
	ComputedAt time.Time `json:"computedAt"`
	KeyID      string    `json:"keyId"`
	Signature  []byte    `json:"signature"` // Ed25519 over Message()
}

// Message is what the signature covers.
func (r SignedRoot) Message() []byte {
	var b bytes.Buffer
	b.WriteString("lantau.attendance.root.v1\n")
	for _, s := range []string{r.Tenant, r.Date, strconv.Itoa(r.Size), r.Root, r.ComputedAt.UTC().Format(time.RFC3339Nano), r.KeyID} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Verify checks the signature with the public key.
func (r SignedRoot) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, r.Message(), r.Signature)
}

// Snapshot is what the daily job writes to object storage: the signed
// root and the leaves it covers (about 100 bytes a leaf), from which any
// record's proof for that day can be rebuilt.
type Snapshot struct {
	Root   SignedRoot `json:"root"`
	Leaves []Leaf     `json:"leaves"`
}

// BuildSnapshot sorts the leaves, computes their root and signs it.
func BuildSnapshot(ctx context.Context, tenant, date string, at time.Time, leaves []Leaf, signer Signer) (Snapshot, error) {
	ls := append([]Leaf(nil), leaves...)
	SortLeaves(ls)
	for i := 1; i < len(ls); i++ {
		if ls[i].Employee == ls[i-1].Employee {
			return Snapshot{}, problem.E("attendance.BuildSnapshot", problem.Invalid, fmt.Errorf("employee %s twice", ls[i].Employee))
		}
	}
	root := MerkleRoot(ls)
	sr := SignedRoot{Tenant: tenant, Date: date, Size: len(ls), Root: hex.EncodeToString(root[:]), ComputedAt: at.UTC(), KeyID: signer.KeyID()}
	sig, err := signer.Sign(ctx, sr.Message())
	if err != nil {
		return Snapshot{}, problem.E("attendance.BuildSnapshot", problem.Internal, err)
	}
	sr.Signature = sig
	return Snapshot{Root: sr, Leaves: ls}, nil
}

// Heads reads the head of every chain of the company: a query of the
// chain registry (written once per employee, never on the punch path)
// and batch reads of the heads, 100 at a time.
func (s *Store) Heads(ctx context.Context, tenant string) ([]Leaf, error) {
	const op = "attendance.Heads"
	var out []Leaf
	cursor := ""
	for {
		p, err := s.t.Query(ctx, table.Query{Tenant: tenant, PK: pkChains, Limit: table.MaxBatchGetKeys, Cursor: cursor})
		if err != nil {
			return nil, problem.E(op, problem.Internal, err)
		}
		keys := make([]table.Key, 0, len(p.Items))
		for _, it := range p.Items {
			keys = append(keys, empKey(tenant, EmployeeID(it.SK), skHead))
		}
		if len(keys) > 0 {
			items, err := s.t.BatchGet(ctx, keys)
			if err != nil {
				return nil, problem.E(op, problem.Internal, err)
			}
			for _, it := range items {
				var h head
				if err := json.Unmarshal(it.Data, &h); err != nil {
					return nil, problem.E(op, problem.Internal, err)
				}
				if h.Seq > 0 {
					out = append(out, Leaf{Employee: EmployeeID(it.PK[len(pkEmployee):]), Seq: h.Seq, Hash: h.Hash})
				}
			}
		}
		if p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	SortLeaves(out)
	return out, nil
}

// DailyRoot reads every chain head of the company and signs their root:
// what the daily scheduled function calls before writing the snapshot to
// object storage (as JSON, e.g. attendance/roots/<tenant>/<date>.json).
func (s *Store) DailyRoot(ctx context.Context, tenant, date string, signer Signer) (Snapshot, error) {
	leaves, err := s.Heads(ctx, tenant)
	if err != nil {
		return Snapshot{}, err
	}
	return BuildSnapshot(ctx, tenant, date, s.now(), leaves, signer)
}

// Proof shows that a record belongs to its employee's chain and that the
// chain, up to the head the day's snapshot holds, is under the signed root.
type Proof struct {
	Record     Record     `json:"record"`
	Links      []Link     `json:"links"` // the records after it, up to the anchored head
	Leaf       Leaf       `json:"leaf"`
	LeafIndex  int        `json:"leafIndex"`
	MerklePath []string   `json:"merklePath"` // hex
	Root       SignedRoot `json:"root"`
}

// Prove builds the proof of record seq of the employee against the
// snapshot. A record appended after the snapshot is not in it yet.
func (s *Store) Prove(ctx context.Context, tenant string, emp EmployeeID, seq int64, snap Snapshot) (Proof, error) {
	const op = "attendance.Prove"
	idx := sort.Search(len(snap.Leaves), func(i int) bool { return snap.Leaves[i].Employee >= emp })
	if idx == len(snap.Leaves) || snap.Leaves[idx].Employee != emp || seq > snap.Leaves[idx].Seq || seq < 1 {
		return Proof{}, problem.E(op, problem.NotFound, problem.Code("not-anchored"), i18n.Text{EN: "This record is not covered by that day's signed root; try a later day.", ZH: "當日的簽署根雜湊並未涵蓋此記錄；請使用較後日期。"})
	}
	leaf := snap.Leaves[idx]
	rec, err := s.Record(ctx, tenant, emp, seq)
	if err != nil {
		return Proof{}, err
	}
	p := Proof{Record: rec, Leaf: leaf, LeafIndex: idx, Root: snap.Root}
	if seq < leaf.Seq {
		cursor := ""
		for {
			pg, err := s.t.Query(ctx, table.Query{Tenant: tenant, PK: pkEmployee + string(emp), SortOp: table.SortBetween,
				Value: recordSK(seq + 1), Value2: recordSK(leaf.Seq), Limit: 500, Cursor: cursor})
			if err != nil {
				return Proof{}, problem.E(op, problem.Internal, err)
			}
			for _, it := range pg.Items {
				r, err := decodeStored(tenant, emp, it.Data)
				if err != nil {
					return Proof{}, problem.E(op, problem.Internal, err)
				}
				p.Links = append(p.Links, Link{Seq: r.Seq, ContentHash: r.ContentHash})
			}
			if pg.Cursor == "" {
				break
			}
			cursor = pg.Cursor
		}
	}
	for _, h := range InclusionPath(snap.Leaves, idx) {
		p.MerklePath = append(p.MerklePath, hex.EncodeToString(h[:]))
	}
	return p, nil
}

// VerifyProof checks a proof with the signer's public key: the record's
// content against its hashes, the links up to the leaf's head, the leaf
// under the root, and the root's signature. The error says which step
// failed.
func VerifyProof(p Proof, pub ed25519.PublicKey) error {
	const op = "attendance.VerifyProof"
	fail := func(code, en, zh string) error {
		return problem.E(op, problem.Unprocessable, problem.Code(code), i18n.Text{EN: en, ZH: zh})
	}
	c, err := contentHash(p.Record)
	if err != nil || c != p.Record.ContentHash || LinkHash(p.Record.Seq, p.Record.Prev, c) != p.Record.Hash {
		return fail("record-altered", "The record's content does not match its hash.", "記錄內容與其雜湊值不符。")
	}
	h, seq := p.Record.Hash, p.Record.Seq
	for _, l := range p.Links {
		if l.Seq != seq+1 {
			return fail("chain-broken", "The chain path skips a record.", "鏈路徑缺少記錄。")
		}
		h, seq = LinkHash(l.Seq, h, l.ContentHash), l.Seq
	}
	if p.Leaf.Employee != p.Record.Employee || p.Leaf.Seq != seq || p.Leaf.Hash != h {
		return fail("chain-broken", "The chain from this record does not lead to the head in the signed root.", "由此記錄起的鏈未能連到簽署根雜湊中的鏈頭。")
	}
	root, err := hex.DecodeString(p.Root.Root)
	if err != nil || len(root) != 32 {
		return fail("root-malformed", "The signed root is malformed.", "簽署根雜湊格式錯誤。")
	}
	path := make([][32]byte, 0, len(p.MerklePath))
	for _, s := range p.MerklePath {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return fail("merkle-path-malformed", "The Merkle path is malformed.", "Merkle 路徑格式錯誤。")
		}
		path = append(path, [32]byte(b))
	}
	if !VerifyInclusion(LeafHash(p.Leaf), p.LeafIndex, p.Root.Size, path, [32]byte(root)) {
		return fail("not-in-root", "The chain head is not under the signed root.", "鏈頭不在簽署根雜湊之下。")
	}
	if p.Root.Tenant != p.Record.Tenant {
		return fail("not-in-root", "The signed root belongs to another company.", "簽署根雜湊屬於另一間公司。")
	}
	if !p.Root.Verify(pub) {
		return fail("bad-signature", "The root's signature does not verify.", "根雜湊的簽署無法核實。")
	}
	return nil
}

// Verify checks a snapshot read back from object storage: the leaves in
// order, their root equal to the signed one, and the signature.
func (s Snapshot) Verify(pub ed25519.PublicKey) error {
	const op = "attendance.Snapshot.Verify"
	for i := 1; i < len(s.Leaves); i++ {
		if s.Leaves[i-1].Employee >= s.Leaves[i].Employee {
			return problem.E(op, problem.Unprocessable, problem.Code("snapshot-unsorted"), i18n.Text{EN: "The snapshot's chain heads are not in order.", ZH: "快照中的鏈頭次序不正確。"})
		}
	}
	root := MerkleRoot(s.Leaves)
	if len(s.Leaves) != s.Root.Size || hex.EncodeToString(root[:]) != s.Root.Root {
		return problem.E(op, problem.Unprocessable, problem.Code("not-in-root"), i18n.Text{EN: "The snapshot's chain heads do not give its signed root.", ZH: "快照中的鏈頭與其簽署根雜湊不符。"})
	}
	if !s.Root.Verify(pub) {
		return problem.E(op, problem.Unprocessable, problem.Code("bad-signature"), i18n.Text{EN: "The root's signature does not verify.", ZH: "根雜湊的簽署無法核實。"})
	}
	return nil
}

// CompanyReport is the full verification of a company's chains.
type CompanyReport struct {
	Tenant  string        `json:"tenant"`
	Chains  int           `json:"chains"`
	Valid   bool          `json:"valid"`
	Broken  []ChainReport `json:"broken,omitempty"`  // each broken chain at its first bad link
	Changed []Leaf        `json:"changed,omitempty"` // heads behind the snapshot's: records removed since it was signed
}

// VerifyCompany verifies every employee's chain and, given the latest
// snapshot (nil to skip), that no chain's head went back or away since
// it was signed: a forger who rewrote a whole chain and its head cannot
// also rewrite the signed root.
func (s *Store) VerifyCompany(ctx context.Context, tenant string, snap *Snapshot) (CompanyReport, error) {
	heads, err := s.Heads(ctx, tenant)
	if err != nil {
		return CompanyReport{}, err
	}
	rep := CompanyReport{Tenant: tenant, Chains: len(heads)}
	for _, h := range heads {
		cr, err := s.VerifyChain(ctx, tenant, h.Employee)
		if err != nil {
			return CompanyReport{}, err
		}
		if !cr.Valid {
			rep.Broken = append(rep.Broken, cr)
		}
	}
	if snap != nil {
		for _, l := range snap.Leaves {
			r, err := s.Record(ctx, tenant, l.Employee, l.Seq)
			if err != nil || r.Hash != l.Hash {
				rep.Changed = append(rep.Changed, l)
			}
		}
	}
	rep.Valid = len(rep.Broken) == 0 && len(rep.Changed) == 0
	return rep, nil
}
