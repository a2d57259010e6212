package attendance_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/bolt"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// counting wraps a store and counts the items written, by partition.
type counting struct {
	table.Store
	mu     sync.Mutex
	writes map[string]int // PK -> items written
	total  atomic.Int64
}

func (c *counting) count(k table.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes == nil {
		c.writes = map[string]int{}
	}
	c.writes[k.PK]++
	c.total.Add(1)
}

func (c *counting) Put(ctx context.Context, it table.Item, cond table.Condition) error {
	err := c.Store.Put(ctx, it, cond)
	if err == nil {
		c.count(it.Key)
	}
	return err
}

func (c *counting) Transact(ctx context.Context, ops []table.Op) error {
	err := c.Store.Transact(ctx, ops)
	if err == nil {
		for _, op := range ops {
			if op.Put != nil || op.Delete != nil {
				c.count(op.Key())
			}
		}
	}
	return err
}

func (c *counting) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.writes
	c.writes = nil
	c.total.Store(0)
	return w
}

func openTable(t testing.TB) table.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "table.db"), table.Lantau)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// clockAt is a settable clock.
type clockAt struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clockAt) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clockAt) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func applicable() attendance.Applicable {
	return attendance.Applicable{Sites: []attendance.Site{kbSite()}, Shifts: []attendance.Shift{officeShift()}, AllowField: true}
}

func punchCmd(emp attendance.EmployeeID, key string, kind attendance.Kind, at time.Time) attendance.PunchCommand {
	return attendance.PunchCommand{
		Tenant: "t-acme", Employee: emp, IdempotencyKey: key,
		Request:    attendance.Request{Kind: kind, Location: near(30, 10), DeviceID: "dev-" + string(emp), ClientTime: at},
		Applicable: applicable(), Calendar: attendance.NewCalendar(attendance.HongKongHolidays()),
	}
}

func TestPunch_WritesThreeItemsInTheEmployeesPartitionOnly(t *testing.T) {
	ct := &counting{Store: openTable(t)}
	clk := &clockAt{t: hk(2026, 11, 25, 8, 55)}
	s := attendance.NewStore(ct, clk.now)
	ctx := context.Background()

	first, err := s.Punch(ctx, punchCmd("e-1", "k-1", attendance.In, clk.now()))
	require.NoError(t, err)
	assert.Equal(t, attendance.Accepted, first.Record.Decision.Outcome)
	assert.Equal(t, int64(1), first.Record.Seq)
	assert.Equal(t, attendance.Genesis, first.Record.Prev)
	// The first record also registers the chain, once.
	assert.Equal(t, map[string]int{"ATT#EMP#e-1": 3, "ATT#CHAINS": 1}, ct.reset())

	clk.set(hk(2026, 11, 25, 18, 5))
	second, err := s.Punch(ctx, punchCmd("e-1", "k-2", attendance.Out, clk.now()))
	require.NoError(t, err)
	assert.Equal(t, first.Record.Hash, second.Record.Prev)
	// Every later punch: record + head + idempotency marker, nothing shared.
	assert.Equal(t, map[string]int{"ATT#EMP#e-1": 3}, ct.reset())

	dev, err := s.BoundDevice(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	assert.Equal(t, "dev-e-1", dev, "the first device bound itself")
}

func TestPunch_RetryWithTheSameKeyReturnsTheFirstResultAndWritesNothing(t *testing.T) {
	ct := &counting{Store: openTable(t)}
	clk := &clockAt{t: hk(2026, 11, 25, 8, 55)}
	s := attendance.NewStore(ct, clk.now)
	ctx := context.Background()
	cmd := punchCmd("e-1", "k-1", attendance.In, clk.now())
	first, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	ct.reset()

	clk.set(clk.now().Add(time.Minute))
	again, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.False(t, first.Replayed)
	assert.Equal(t, first.Record, again.Record)
	assert.Empty(t, ct.reset(), "a retry writes nothing")

	other := cmd
	other.Request.Kind = attendance.Out
	_, err = s.Punch(ctx, other)
	assert.Equal(t, problem.Conflict, problem.KindOf(err))
	assert.Equal(t, problem.Code("idempotency-key-reused"), problem.CodeOf(err))

	missing := cmd
	missing.IdempotencyKey = ""
	_, err = s.Punch(ctx, missing)
	assert.Equal(t, problem.Code("idempotency-key-missing"), problem.CodeOf(err))
}

func TestPunch_FiftyConcurrentPunchesOfOneEmployeeStayLinear(t *testing.T) {
	s := attendance.NewStore(openTable(t), func() time.Time { return hk(2026, 11, 25, 8, 55) })
	ctx := context.Background()
	const n = 50
	var wg sync.WaitGroup
	seqs := make(chan int64, 2*n)
	errs := make(chan error, 2*n)
	for i := range n {
		for range 2 { // each key sent twice at once: one append, one replay
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.Punch(ctx, punchCmd("e-1", fmt.Sprintf("k-%02d", i), attendance.In, hk(2026, 11, 25, 8, 55)))
				if err != nil {
					errs <- err
					return
				}
				if !res.Replayed {
					seqs <- res.Record.Seq
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	close(seqs)
	for err := range errs {
		require.NoError(t, err)
	}
	got := map[int64]bool{}
	for seq := range seqs {
		assert.False(t, got[seq], "seq %d given twice", seq)
		got[seq] = true
	}
	assert.Len(t, got, n, "one record per key")

	rep, err := s.VerifyChain(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	assert.True(t, rep.Valid, "%+v", rep.First)
	assert.Equal(t, int64(n), rep.Records)
	recs, err := s.Records(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	require.Len(t, recs, n)
	for i, r := range recs {
		assert.Equal(t, int64(i+1), r.Seq)
		if i > 0 {
			assert.Equal(t, recs[i-1].Hash, r.Prev)
		}
	}
}

func TestPunch_ConcurrentFirstPunchesFromTwoDevicesBindOnlyOne(t *testing.T) {
	s := attendance.NewStore(openTable(t), func() time.Time { return hk(2026, 11, 25, 8, 55) })
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]attendance.PunchResult, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := punchCmd("e-1", fmt.Sprintf("k-%d", i), attendance.In, hk(2026, 11, 25, 8, 55))
			cmd.Request.DeviceID = fmt.Sprintf("phone-%d", i)
			r, err := s.Punch(ctx, cmd)
			assert.NoError(t, err)
			results[i] = r
		}()
	}
	wg.Wait()
	bound, err := s.BoundDevice(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	var binds, refusals int
	for _, r := range results {
		if r.Record.Decision.BindDevice {
			binds++
			assert.Equal(t, bound, r.Record.Request.DeviceID)
		}
		if r.Record.Decision.Has("device-not-bound") {
			refusals++
		}
	}
	assert.Equal(t, 1, binds)
	assert.Equal(t, 1, refusals)

	// Only an admin rebinds.
	require.NoError(t, s.RebindDevice(ctx, "t-acme", "e-1", "phone-new"))
	cmd := punchCmd("e-1", "k-after", attendance.Out, hk(2026, 11, 25, 8, 55))
	cmd.Request.DeviceID = "phone-new"
	r, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	assert.False(t, r.Record.Decision.Has("device-not-bound"))
}

// tamper rewrites the stored record seq of e-1 with change applied.
func tamper(t *testing.T, tb table.Store, seq int64, change func(r *attendance.Record)) {
	t.Helper()
	ctx := context.Background()
	k := table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: fmt.Sprintf("P#%012d", seq)}
	it, err := tb.Get(ctx, k)
	require.NoError(t, err)
	var r attendance.Record
	require.NoError(t, json.Unmarshal(it.Data, &r))
	change(&r)
	it.Data, err = json.Marshal(r)
	require.NoError(t, err)
	require.NoError(t, tb.Put(ctx, it, table.Always))
}

func TestVerifyChain_ReportsTheFirstBrokenLink(t *testing.T) {
	tests := []struct {
		name   string
		attack func(t *testing.T, tb table.Store)
		want   attendance.Break
	}{
		{"an edited time", func(t *testing.T, tb table.Store) {
			tamper(t, tb, 3, func(r *attendance.Record) { r.Time = r.Time.Add(-30 * time.Minute) })
		}, attendance.Break{Seq: 3, Kind: "altered"}},
		{"an edited outcome, resealed by the forger", func(t *testing.T, tb table.Store) {
			tamper(t, tb, 2, func(r *attendance.Record) {
				r.Decision.Outcome = attendance.Accepted
				r.Request.MockLocation = false
				r.Tenant, r.Employee = "t-acme", "e-1" // a careful forger reseals exactly
				sealed, err := attendance.Seal(*r)
				require.NoError(t, err)
				*r = sealed
			})
		}, attendance.Break{Seq: 2, Kind: "altered", Detail: "record 2 was changed: record 3 links to a different hash"}},
		{"a deleted record", func(t *testing.T, tb table.Store) {
			require.NoError(t, tb.Delete(context.Background(), table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: fmt.Sprintf("P#%012d", 2)}, table.Always))
		}, attendance.Break{Seq: 2, Kind: "missing"}},
		{"the last record deleted", func(t *testing.T, tb table.Store) {
			require.NoError(t, tb.Delete(context.Background(), table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: fmt.Sprintf("P#%012d", 4)}, table.Always))
		}, attendance.Break{Seq: 4, Kind: "missing"}},
		{"two records swapped", func(t *testing.T, tb table.Store) {
			ctx := context.Background()
			k2 := table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: fmt.Sprintf("P#%012d", 2)}
			k3 := table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: fmt.Sprintf("P#%012d", 3)}
			a, err := tb.Get(ctx, k2)
			require.NoError(t, err)
			b, err := tb.Get(ctx, k3)
			require.NoError(t, err)
			a.Key, b.Key = k3, k2
			require.NoError(t, tb.Put(ctx, a, table.Always))
			require.NoError(t, tb.Put(ctx, b, table.Always))
		}, attendance.Break{Seq: 2, Kind: "reordered"}},
		{"a record inserted after the head", func(t *testing.T, tb table.Store) {
			ctx := context.Background()
			it, err := tb.Get(ctx, table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: fmt.Sprintf("P#%012d", 4)})
			require.NoError(t, err)
			var r attendance.Record
			require.NoError(t, json.Unmarshal(it.Data, &r))
			r.Seq, r.Prev = 5, r.Hash
			r, err = attendance.Seal(r)
			require.NoError(t, err)
			it.SK = fmt.Sprintf("P#%012d", 5)
			it.Data, _ = json.Marshal(r)
			require.NoError(t, tb.Put(ctx, it, table.IfNotExists))
		}, attendance.Break{Seq: 5, Kind: "inserted"}},
		{"unreadable data", func(t *testing.T, tb table.Store) {
			ctx := context.Background()
			k := table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: fmt.Sprintf("P#%012d", 1)}
			require.NoError(t, tb.Put(ctx, table.Item{Key: k, Version: 1, Data: []byte("{nope")}, table.Always))
		}, attendance.Break{Seq: 1, Kind: "unreadable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := openTable(t)
			s := attendance.NewStore(tb, func() time.Time { return hk(2026, 11, 25, 8, 55) })
			ctx := context.Background()
			for i := range 4 {
				cmd := punchCmd("e-1", fmt.Sprintf("k-%d", i), attendance.In, hk(2026, 11, 25, 8, 55))
				cmd.Request.MockLocation = i == 1 // record 2 is refused
				_, err := s.Punch(ctx, cmd)
				require.NoError(t, err)
			}
			rep, err := s.VerifyChain(ctx, "t-acme", "e-1")
			require.NoError(t, err)
			require.True(t, rep.Valid, "intact before the attack")

			tt.attack(t, tb)
			rep, err = s.VerifyChain(ctx, "t-acme", "e-1")
			require.NoError(t, err)
			assert.False(t, rep.Valid)
			require.NotNil(t, rep.First)
			assert.Equal(t, tt.want.Seq, rep.First.Seq, rep.First.Detail)
			assert.Equal(t, tt.want.Kind, rep.First.Kind, rep.First.Detail)
			if tt.want.Detail != "" {
				assert.Equal(t, tt.want.Detail, rep.First.Detail)
			}
		})
	}
}

func testSigner(t testing.TB) (attendance.Ed25519Signer, ed25519.PublicKey) {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "lantau attendance test key seed!")
	key := ed25519.NewKeyFromSeed(seed)
	return attendance.Ed25519Signer{ID: "test-2026", Key: key}, key.Public().(ed25519.PublicKey)
}

func TestDailyRoot_ProvesARecordAgainstTheSignedRoot(t *testing.T) {
	tb := openTable(t)
	clk := &clockAt{t: hk(2026, 11, 25, 8, 55)}
	s := attendance.NewStore(tb, clk.now)
	ctx := context.Background()
	for _, emp := range []attendance.EmployeeID{"e-3", "e-1", "e-2", "e-4", "e-5"} {
		for i := range 3 {
			_, err := s.Punch(ctx, punchCmd(emp, fmt.Sprintf("k-%d", i), attendance.In, clk.now()))
			require.NoError(t, err)
		}
	}
	signer, pub := testSigner(t)
	clk.set(hk(2026, 11, 25, 23, 59))
	snap, err := s.DailyRoot(ctx, "t-acme", "2026-11-25", signer)
	require.NoError(t, err)
	assert.Equal(t, 5, snap.Root.Size)
	assert.Equal(t, attendance.EmployeeID("e-1"), snap.Leaves[0].Employee, "sorted by employee")
	assert.True(t, snap.Root.Verify(pub))

	// A punch after the snapshot is not covered by it.
	_, err = s.Punch(ctx, punchCmd("e-2", "k-late", attendance.Out, clk.now()))
	require.NoError(t, err)
	_, err = s.Prove(ctx, "t-acme", "e-2", 4, snap)
	assert.Equal(t, problem.Code("not-anchored"), problem.CodeOf(err))

	proof, err := s.Prove(ctx, "t-acme", "e-2", 2, snap)
	require.NoError(t, err)
	assert.Len(t, proof.Links, 1, "record 2 to the anchored head 3")
	require.NoError(t, attendance.VerifyProof(proof, pub))

	// Round trip through JSON, as the verify endpoint would.
	raw, err := json.Marshal(proof)
	require.NoError(t, err)
	var decoded attendance.Proof
	require.NoError(t, json.Unmarshal(raw, &decoded))
	require.NoError(t, attendance.VerifyProof(decoded, pub))

	otherKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	forged := func(change func(p *attendance.Proof)) attendance.Proof {
		var p attendance.Proof
		require.NoError(t, json.Unmarshal(raw, &p))
		change(&p)
		return p
	}
	tests := []struct {
		name  string
		proof attendance.Proof
		key   ed25519.PublicKey
		code  problem.Code
	}{
		{"tampered record", forged(func(p *attendance.Proof) { p.Record.Time = p.Record.Time.Add(-time.Hour) }), pub, "record-altered"},
		{"resealed record", forged(func(p *attendance.Proof) {
			p.Record.Request.Note = "edited"
			p.Record, _ = attendance.Seal(p.Record)
		}), pub, "chain-broken"},
		{"a link left out", forged(func(p *attendance.Proof) { p.Links = nil }), pub, "chain-broken"},
		{"another leaf index", forged(func(p *attendance.Proof) { p.LeafIndex = 0 }), pub, "not-in-root"},
		{"another root", forged(func(p *attendance.Proof) { p.Root.Root = snap.Root.Root[:60] + "0000" }), pub, "not-in-root"},
		{"wrong key", forged(func(*attendance.Proof) {}), otherKey, "bad-signature"},
		{"re-dated root", forged(func(p *attendance.Proof) { p.Root.Date = "2026-11-24" }), pub, "bad-signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := attendance.VerifyProof(tt.proof, tt.key)
			require.Error(t, err)
			assert.Equal(t, tt.code, problem.CodeOf(err))
		})
	}
}

func TestCorrection_AppendsARecordThatRefersToTheOriginal(t *testing.T) {
	tb := openTable(t)
	clk := &clockAt{t: hk(2026, 11, 25, 9, 40)}
	s := attendance.NewStore(tb, clk.now)
	ctx := context.Background()
	late, err := s.Punch(ctx, punchCmd("e-1", "k-1", attendance.In, clk.now()))
	require.NoError(t, err)
	require.True(t, late.Record.Decision.Late)

	req, err := s.RequestCorrection(ctx, "t-acme", attendance.CorrectionRequest{
		ID: "c-1", Employee: "e-1", Original: 1,
		Correction: attendance.Correction{Action: attendance.Replace, Kind: attendance.In, At: hk(2026, 11, 25, 8, 58), Reason: "MTR delay slip", RequestedBy: "e-1"},
	})
	require.NoError(t, err)
	assert.Equal(t, attendance.StatusPending, req.Status)
	_, err = s.RequestCorrection(ctx, "t-acme", req)
	assert.Equal(t, problem.Code("correction-exists"), problem.CodeOf(err))

	decided, err := s.DecideCorrection(ctx, "t-acme", "e-1", "c-1", "u-admin", true)
	require.NoError(t, err)
	assert.Equal(t, attendance.StatusApproved, decided.Status)
	assert.Equal(t, int64(2), decided.RecordSeq)
	_, err = s.DecideCorrection(ctx, "t-acme", "e-1", "c-1", "u-admin", true)
	assert.Equal(t, problem.Code("correction-decided"), problem.CodeOf(err))

	recs, err := s.Records(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, late.Record, recs[0], "the original is never edited")
	assert.Equal(t, attendance.TypeCorrection, recs[1].Type)
	assert.Equal(t, &attendance.Ref{Seq: 1, Hash: late.Record.Hash}, recs[1].Refers)
	eff := attendance.Effective(recs)
	require.Len(t, eff, 1)
	assert.Equal(t, hk(2026, 11, 25, 8, 58).UTC(), eff[0].Time)
	rep, err := s.VerifyChain(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	assert.True(t, rep.Valid)

	_, err = s.RequestCorrection(ctx, "t-acme", attendance.CorrectionRequest{ID: "c-2", Employee: "e-1", Original: 1,
		Correction: attendance.Correction{Action: attendance.Void, Reason: "duplicate", RequestedBy: "e-1"}})
	require.NoError(t, err)
	rejected, err := s.DecideCorrection(ctx, "t-acme", "e-1", "c-2", "u-admin", false)
	require.NoError(t, err)
	assert.Equal(t, attendance.StatusRejected, rejected.Status)
	recs, err = s.Records(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	assert.Len(t, recs, 2, "a rejection appends nothing")
}

func TestResolveField_ApprovalMakesAFieldPunchCountOnce(t *testing.T) {
	s := attendance.NewStore(openTable(t), func() time.Time { return hk(2026, 11, 25, 8, 55) })
	ctx := context.Background()
	cmd := punchCmd("e-1", "k-1", attendance.In, hk(2026, 11, 25, 8, 55))
	cmd.Request.Location, cmd.Request.Note = near(2000, 20), "Site visit at a client in Kwun Tong"
	res, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	require.Equal(t, attendance.PendingField, res.Record.Decision.Outcome)

	recs, err := s.Records(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	assert.False(t, attendance.Effective(recs)[0].Counts, "not before approval")

	_, _, err = s.ResolveField(ctx, "t-acme", "e-1", 1, "u-manager", true, "ok")
	require.NoError(t, err)
	_, _, err = s.ResolveField(ctx, "t-acme", "e-1", 1, "u-manager", false, "changed my mind")
	assert.Equal(t, problem.Code("already-resolved"), problem.CodeOf(err))

	recs, err = s.Records(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	require.Len(t, recs, 2)
	eff := attendance.Effective(recs)
	require.Len(t, eff, 1)
	assert.True(t, eff[0].Counts)
	assert.True(t, eff[0].Field)
}

func TestRules_RoundTripThroughTheStoreWithHolidayOverrides(t *testing.T) {
	s := attendance.NewStore(openTable(t), nil)
	ctx := context.Background()
	site, err := s.SaveSite(ctx, "t-acme", attendance.Site{ID: "kb", Name: "KB", Fence: attendance.Geofence{Center: kowloonBay, RadiusM: 150},
		AccessPoints: []attendance.AccessPoint{{SSID: "Acme", BSSID: "A4:2B:B0:12:34:56"}}})
	require.NoError(t, err)
	assert.Equal(t, officeAP, site.AccessPoints[0].BSSID)
	_, err = s.SaveShift(ctx, "t-acme", officeShift())
	require.NoError(t, err)
	require.NoError(t, s.SaveAssignment(ctx, "t-acme", attendance.Assignment{ID: "a1", Department: "ops", Sites: []string{"kb"}, Shifts: []string{"office"}}))
	assert.Equal(t, problem.Code("bad-assignment"), problem.CodeOf(s.SaveAssignment(ctx, "t-acme", attendance.Assignment{ID: "a2"})))
	require.NoError(t, s.SaveHoliday(ctx, "t-acme", attendance.Holiday{Date: "2026-12-24", EN: "Christmas Eve", ZH: "平安夜"}))
	require.NoError(t, s.SaveHoliday(ctx, "t-acme", attendance.Holiday{Date: "2026-12-26", Removed: true}))
	require.NoError(t, s.SavePolicy(ctx, "t-acme", attendance.Policy{MaxAccuracyM: 50}))

	r, err := s.Rules(ctx, "t-acme")
	require.NoError(t, err)
	assert.Equal(t, 50.0, r.Policy.MaxAccuracyM)
	app := r.For("e-1", "ops")
	require.Len(t, app.Sites, 1)
	require.Len(t, app.Shifts, 1)
	_, ok := r.Calendar.Holiday("2026-12-24")
	assert.True(t, ok)
	_, ok = r.Calendar.Holiday("2026-12-26")
	assert.False(t, ok)
	_, ok = r.Calendar.Holiday("2026-12-25")
	assert.True(t, ok)

	other, err := s.Rules(ctx, "t-other")
	require.NoError(t, err)
	assert.Empty(t, other.Sites, "each company has its own set-up")
	_, ok = other.Calendar.Holiday("2026-12-26")
	assert.True(t, ok)
}

func TestPunchEvents_RaiseLateFlaggedAndPendingWithStableIDs(t *testing.T) {
	s := attendance.NewStore(openTable(t), func() time.Time { return hk(2026, 11, 25, 9, 20) })
	ctx := context.Background()

	late, err := s.Punch(ctx, punchCmd("e-1", "k-1", attendance.In, hk(2026, 11, 25, 9, 20)))
	require.NoError(t, err)
	evs, err := attendance.PunchEvents(late.Record, "e-1")
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "lantau.attendance", evs[0].Source)
	assert.Equal(t, attendance.EventLate, evs[0].Type)
	assert.JSONEq(t, fmt.Sprintf(`{"employee":"e-1","seq":1,"hash":%q,"kind":"in","outcome":"accepted","site":"kb","shift":"office","date":"2026-11-25","lateMin":20,"reasons":["device-bound","inside-geofence","late"],"time":"2026-11-25T01:20:00Z"}`, late.Record.Hash), string(evs[0].Data))
	again, err := attendance.PunchEvents(late.Record, "e-1")
	require.NoError(t, err)
	assert.Equal(t, evs[0].ID, again[0].ID, "a replay publishes the same IDs")

	// Another employee (e-1 jumping 2 km in no time would be impossible travel).
	cmd := punchCmd("e-9", "k-2", attendance.In, hk(2026, 11, 25, 9, 20))
	cmd.Request.Location, cmd.Request.Note = near(2000, 20), "visiting a supplier"
	field, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	evs, err = attendance.PunchEvents(field.Record, "e-9")
	require.NoError(t, err)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{attendance.EventFieldPunchPending}, types, "pending, not yet late: it does not count until approved")

	cmd = punchCmd("e-1", "k-3", attendance.In, hk(2026, 11, 25, 9, 20))
	cmd.Request.MockLocation = true
	mock, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	evs, err = attendance.PunchEvents(mock.Record, "e-1")
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, attendance.EventPunchFlagged, evs[0].Type)

	m, err := attendance.MissingEvent("t-acme", "e-2", hk(2026, 11, 25, 9, 15))
	require.NoError(t, err)
	assert.Equal(t, attendance.EventMissing, m.Type)
	assert.NoError(t, m.Validate())
}

// One write unit on DynamoDB is 1 KB: a punch with a UUID key and two
// Wi-Fi networks keeps each of its three items under it, so a punch costs
// 3 WCU, doubled to 6 by TransactWriteItems.
func TestPunch_EachItemOfATypicalPunchFitsOneWriteUnit(t *testing.T) {
	tb := openTable(t)
	s := attendance.NewStore(tb, func() time.Time { return hk(2026, 11, 25, 9, 20) })
	ctx := context.Background()
	const key = "0b6f2f3c-7a1d-4d0e-9a55-1c2d3e4f5a6b"
	cmd := punchCmd("e-00042", key, attendance.In, hk(2026, 11, 25, 9, 20))
	cmd.Tenant = "c-8f14e45fceea167a"
	cmd.Request.WiFi = []attendance.SeenAP{{SSID: "Acme-Office", BSSID: officeAP}, {SSID: "PCCW1x", BSSID: "00:11:22:33:44:55"}}
	cmd.Request.ClientTime = hk(2026, 11, 25, 9, 19).Add(987654321)
	res, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	require.True(t, res.Record.Decision.Late, "a late punch carries the most reasons")
	for _, sk := range []string{"P#000000000001", "HEAD", "IDEM#" + key} {
		it, err := tb.Get(ctx, table.Key{Tenant: cmd.Tenant, PK: "ATT#EMP#e-00042", SK: sk})
		require.NoError(t, err)
		assert.Less(t, table.ItemSize(it), 1024, "%s: %s", sk, it.Data)
	}
	// The stored record holds reason codes and arguments, not messages;
	// reading it renders them again.
	it, err := tb.Get(ctx, table.Key{Tenant: cmd.Tenant, PK: "ATT#EMP#e-00042", SK: "P#000000000001"})
	require.NoError(t, err)
	assert.NotContains(t, string(it.Data), "遲到")
	rec, err := s.Record(ctx, cmd.Tenant, "e-00042", 1)
	require.NoError(t, err)
	assert.Equal(t, res.Record, rec)
	var late attendance.Reason
	for _, r := range rec.Decision.Reasons {
		if r.Code == "late" {
			late = r
		}
	}
	assert.Equal(t, "Late by 20 minutes: the shift started at 09:00.", late.Message.EN)
	assert.Equal(t, "遲到 20 分鐘：班次於 09:00 開始。", late.Message.ZH)
}

func TestExplain_EveryReasonCodeSpeaksBothLanguages(t *testing.T) {
	codes := attendance.ReasonCodes()
	require.NotEmpty(t, codes)
	for _, code := range codes {
		txt := attendance.Explain(code, map[string]string{"site": "KB", "distance": "10", "accuracy": "5"})
		assert.NotEmpty(t, txt.EN, code)
		assert.NotEmpty(t, txt.ZH, code)
		assert.NotEqual(t, txt.EN, txt.ZH, code)
	}
	assert.Equal(t, "Reason: unheard-of", attendance.Explain("unheard-of", nil).EN)
}

func TestPunch_AWiFiPunchAnchorsTheNextTravelCheckAtTheOffice(t *testing.T) {
	clk := &clockAt{t: hk(2026, 11, 25, 8, 55)}
	s := attendance.NewStore(openTable(t), clk.now)
	ctx := context.Background()
	cmd := punchCmd("e-1", "k-1", attendance.In, clk.now())
	cmd.Request.Location, cmd.Request.WiFi = nil, []attendance.SeenAP{{BSSID: officeAP}}
	first, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	require.Equal(t, "wifi", first.Record.Decision.Via)

	clk.set(hk(2026, 11, 25, 9, 5))
	cmd = punchCmd("e-1", "k-2", attendance.Out, clk.now())
	cmd.Request.Location = &attendance.Fix{LatLng: attendance.LatLng{Lat: 22.1987, Lng: 113.5439}, AccuracyM: 10} // Macau, 10 minutes later
	second, err := s.Punch(ctx, cmd)
	require.NoError(t, err)
	assert.True(t, second.Record.Decision.Has("impossible-travel"))
}

func TestDecideCorrection_ConcurrentApprovalsAppendOneRecord(t *testing.T) {
	s := attendance.NewStore(openTable(t), func() time.Time { return hk(2026, 11, 25, 9, 40) })
	ctx := context.Background()
	_, err := s.Punch(ctx, punchCmd("e-1", "k-1", attendance.In, hk(2026, 11, 25, 9, 40)))
	require.NoError(t, err)
	_, err = s.RequestCorrection(ctx, "t-acme", attendance.CorrectionRequest{ID: "c-1", Employee: "e-1", Original: 1,
		Correction: attendance.Correction{Action: attendance.Replace, Kind: attendance.In, At: hk(2026, 11, 25, 9, 0), Reason: "typhoon signal 8 lowered late", RequestedBy: "e-1"}})
	require.NoError(t, err)

	const n = 10
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.DecideCorrection(ctx, "t-acme", "e-1", "c-1", "u-admin", true); err == nil {
				ok.Add(1)
			} else {
				assert.Equal(t, problem.Code("correction-decided"), problem.CodeOf(err))
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), ok.Load())
	recs, err := s.Records(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	assert.Len(t, recs, 2, "the punch and one correction")

	other, err := s.Records(ctx, "t-other", "e-1")
	require.NoError(t, err)
	assert.Empty(t, other, "another company's employee e-1 is another chain")
}

func TestVerifyCompany_FindsAChainRewrittenSinceTheSignedRoot(t *testing.T) {
	tb := openTable(t)
	s := attendance.NewStore(tb, func() time.Time { return hk(2026, 11, 25, 8, 55) })
	ctx := context.Background()
	for _, emp := range []attendance.EmployeeID{"e-1", "e-2"} {
		for i := range 3 {
			_, err := s.Punch(ctx, punchCmd(emp, fmt.Sprintf("k-%d", i), attendance.In, hk(2026, 11, 25, 8, 55)))
			require.NoError(t, err)
		}
	}
	signer, pub := testSigner(t)
	snap, err := s.DailyRoot(ctx, "t-acme", "2026-11-25", signer)
	require.NoError(t, err)
	require.NoError(t, snap.Verify(pub))
	rep, err := s.VerifyCompany(ctx, "t-acme", &snap)
	require.NoError(t, err)
	assert.True(t, rep.Valid)
	assert.Equal(t, 2, rep.Chains)

	// A forger rewrites e-1's record 3 and reseals it, then moves the head
	// to match: the chain alone looks valid, the signed root does not agree.
	tamper(t, tb, 3, func(r *attendance.Record) {
		r.Request.Note = "rewritten"
		r.Tenant, r.Employee = "t-acme", "e-1"
		*r, err = attendance.Seal(*r)
		require.NoError(t, err)
		headKey := table.Key{Tenant: "t-acme", PK: "ATT#EMP#e-1", SK: "HEAD"}
		h, err := tb.Get(ctx, headKey)
		require.NoError(t, err)
		var head map[string]any
		require.NoError(t, json.Unmarshal(h.Data, &head))
		head["hash"] = r.Hash
		h.Data, _ = json.Marshal(head)
		require.NoError(t, tb.Put(ctx, h, table.Always))
	})
	chain, err := s.VerifyChain(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	assert.True(t, chain.Valid, "a whole rewrite is consistent on its own")
	rep, err = s.VerifyCompany(ctx, "t-acme", &snap)
	require.NoError(t, err)
	assert.False(t, rep.Valid)
	require.Len(t, rep.Changed, 1)
	assert.Equal(t, attendance.EmployeeID("e-1"), rep.Changed[0].Employee)

	snap.Leaves[0].Seq++
	assert.Error(t, snap.Verify(pub))
}

func TestCorrectionRequests_ListsAnEmployeesRequests(t *testing.T) {
	s := attendance.NewStore(openTable(t), func() time.Time { return hk(2026, 11, 25, 9, 40) })
	ctx := context.Background()
	for _, id := range []string{"c-2", "c-1"} {
		_, err := s.RequestCorrection(ctx, "t-acme", attendance.CorrectionRequest{ID: id, Employee: "e-1",
			Correction: attendance.Correction{Action: attendance.Add, Kind: attendance.Out, At: hk(2026, 11, 24, 18, 0), Reason: "forgot", RequestedBy: "e-1"}})
		require.NoError(t, err)
	}
	got, err := s.CorrectionRequests(ctx, "t-acme", "e-1")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "c-1", got[0].ID)
	assert.Equal(t, attendance.StatusPending, got[1].Status)
}

// Deleting a setting that is not there is a 404, not a silent success: an
// admin learns of a typo, and an ID from another company finds nothing.
func TestStore_DeletingAMissingSettingIsNotFound(t *testing.T) {
	s := attendance.NewStore(openTable(t), time.Now)
	ctx := context.Background()
	site, err := s.SaveSite(ctx, "t-acme", attendance.Site{ID: "kt", Name: "Kwun Tong",
		Fence: attendance.Geofence{Center: attendance.LatLng{Lat: 22.312, Lng: 114.225}, RadiusM: 150}})
	require.NoError(t, err)
	assert.Equal(t, problem.NotFound, problem.KindOf(s.DeleteSite(ctx, "t-other", site.ID)), "another company's site")
	require.NoError(t, s.DeleteSite(ctx, "t-acme", site.ID))
	for _, err := range []error{
		s.DeleteSite(ctx, "t-acme", site.ID),
		s.DeleteShift(ctx, "t-acme", "nope"),
		s.DeleteAssignment(ctx, "t-acme", "nope"),
		s.DeleteHoliday(ctx, "t-acme", "2026-12-25"),
	} {
		assert.Equal(t, problem.NotFound, problem.KindOf(err), "%v", err)
	}
}
