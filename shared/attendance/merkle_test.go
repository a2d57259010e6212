package attendance_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
)

func leaves(n int) []attendance.Leaf {
	out := make([]attendance.Leaf, n)
	for i := range out {
		sum := sha256.Sum256(fmt.Appendf(nil, "head %d", i))
		out[i] = attendance.Leaf{Employee: attendance.EmployeeID(fmt.Sprintf("e-%05d", i)), Seq: int64(i + 1), Hash: fmt.Sprintf("%x", sum)}
	}
	return out
}

func node(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func TestMerkleRoot_FollowsRFC6962Shape(t *testing.T) {
	ls := leaves(5)
	h := make([][32]byte, 5)
	for i, l := range ls {
		h[i] = attendance.LeafHash(l)
	}
	// RFC 6962: MTH(D[0:5]) = H(1 || MTH(D[0:4]) || MTH(D[4:5])), the split at
	// the largest power of two below n.
	want := node(node(node(h[0], h[1]), node(h[2], h[3])), h[4])
	assert.Equal(t, want, attendance.MerkleRoot(ls))
	assert.Equal(t, node(node(h[0], h[1]), h[2]), attendance.MerkleRoot(ls[:3]))
	assert.Equal(t, h[0], attendance.MerkleRoot(ls[:1]))
	assert.Equal(t, sha256.Sum256(nil), attendance.MerkleRoot(nil))
	// Domain separation: a leaf hash is not the plain hash of its data, and
	// an inner node cannot be presented as a leaf.
	assert.NotEqual(t, node(h[0], h[1]), attendance.LeafHash(attendance.Leaf{Employee: "x"}))
}

func TestInclusionPath_VerifiesForEveryLeafOfEverySize(t *testing.T) {
	for n := 1; n <= 33; n++ {
		ls := leaves(n)
		root := attendance.MerkleRoot(ls)
		for m := range n {
			path := attendance.InclusionPath(ls, m)
			leaf := attendance.LeafHash(ls[m])
			require.True(t, attendance.VerifyInclusion(leaf, m, n, path, root), "n=%d m=%d", n, m)
			if n > 1 {
				assert.False(t, attendance.VerifyInclusion(leaf, (m+1)%n, n, path, root), "wrong index n=%d m=%d", n, m)
				other := attendance.LeafHash(ls[(m+1)%n])
				assert.False(t, attendance.VerifyInclusion(other, m, n, path, root), "wrong leaf n=%d m=%d", n, m)
				assert.False(t, attendance.VerifyInclusion(leaf, m, n, path[:len(path)-1], root), "short path n=%d m=%d", n, m)
			}
		}
	}
}

func TestBuildSnapshot_SortsSignsAndRefusesDuplicates(t *testing.T) {
	signer, pub := testSigner(t)
	ls := leaves(4)
	ls[0], ls[3] = ls[3], ls[0]
	snap, err := attendance.BuildSnapshot(context.Background(), "t-acme", "2026-11-25", time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC), ls, signer)
	require.NoError(t, err)
	assert.Equal(t, leaves(4), snap.Leaves)
	assert.True(t, snap.Root.Verify(pub))
	assert.Equal(t, "test-2026", snap.Root.KeyID)
	snap.Root.Size++
	assert.False(t, snap.Root.Verify(pub), "every field is signed")

	_, err = attendance.BuildSnapshot(context.Background(), "t-acme", "2026-11-25", time.Now(), append(leaves(2), leaves(1)...), signer)
	assert.Error(t, err)
}
