package directory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/staffcsv"
	"github.com/lantau-hq/lantau/shared/table"
)

// counting counts the writes that reach the table.
type counting struct {
	table.Store
	writes atomic.Int64
}

func (c *counting) Put(ctx context.Context, it table.Item, cond table.Condition) error {
	c.writes.Add(1)
	return c.Store.Put(ctx, it, cond)
}

func (c *counting) Delete(ctx context.Context, k table.Key, cond table.Condition) error {
	c.writes.Add(1)
	return c.Store.Delete(ctx, k, cond)
}

func (c *counting) Transact(ctx context.Context, ops []table.Op) error {
	c.writes.Add(int64(len(ops)))
	return c.Store.Transact(ctx, ops)
}

// bulkAccounts adds identity's bulk operations to the accounts fake:
// addresses on acme.com.hk only, holders of addresses set by the test, and
// CreateAccounts writing only the caller's items, as the real one writes
// them with the accounts.
type bulkAccounts struct {
	*accounts
	mu      sync.Mutex
	holders map[string]identity.EmailHolder
	invited []string
	batches int
}

func (b *bulkAccounts) CheckInvitations(_ context.Context, _ string, invs []identity.Invitation) ([]identity.InvitationCheck, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]identity.InvitationCheck, len(invs))
	for i, inv := range invs {
		if !strings.HasSuffix(inv.Email, "@acme.com.hk") {
			out[i].Problems = []problem.FieldError{{Field: "email", Code: "not-on-domain", Message: i18n.Text{EN: "must be an address at acme.com.hk", ZH: "必須是公司網域 acme.com.hk 的電郵地址"}}}
			continue
		}
		out[i].Email = inv.Email
		if h, ok := b.holders[inv.Email]; ok {
			out[i].Holder = &h
		}
	}
	return out, nil
}

func (b *bulkAccounts) CreateAccounts(ctx context.Context, _ identity.Actor, ps []identity.Provision, shared []table.Op) (identity.Provisioned, *identity.Invitations, error) {
	var ops []table.Op
	for _, p := range ps {
		ops = append(ops, p.Extra...)
	}
	if n := len(ops) + len(shared) + identity.OpsPerAccount*len(ps); n > table.MaxTransactOps {
		return identity.Provisioned{}, nil, fmt.Errorf("%d operations in one transaction", n)
	}
	if err := b.store.Transact(ctx, append(ops, shared...)); err != nil {
		return identity.Provisioned{}, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches++
	out := identity.Provisioned{}
	for _, p := range ps {
		b.invited = append(b.invited, p.Email)
		out.Users = append(out.Users, identity.UserView{ID: p.ID, Email: p.Email, Status: identity.UserInvited})
	}
	return out, nil, nil
}

func (b *bulkAccounts) SendInvitations(context.Context, *identity.Invitations) []string { return nil }

type importFixture struct {
	*fixture
	bulk  *bulkAccounts
	count *counting
}

func newImportFixture(t *testing.T) *importFixture {
	f := newFixture(t)
	count := &counting{Store: f.store}
	bulk := &bulkAccounts{accounts: f.accounts, holders: map[string]identity.EmailHolder{}}
	f.dir = directory.New(directory.Deps{Store: count, Accounts: bulk, Events: f.events, Now: f.dir.Now})
	return &importFixture{fixture: f, bulk: bulk, count: count}
}

func decode(t *testing.T, csv string) *staffcsv.Sheet {
	t.Helper()
	sh, err := staffcsv.Decode([]byte(csv), staffcsv.Options{})
	require.NoError(t, err)
	return sh
}

func (f *importFixture) run(t *testing.T, a identity.Actor, csv string) (*directory.ImportPlan, directory.ImportResult) {
	t.Helper()
	pl, res, err := f.dir.Import(context.Background(), a, decode(t, csv), directory.ImportOptions{Job: "job-test"})
	require.NoError(t, err)
	return pl, res
}

func (f *importFixture) byEmail(t *testing.T) map[string]directory.Employee {
	t.Helper()
	list, err := f.dir.Records(context.Background(), tenant)
	require.NoError(t, err)
	out := map[string]directory.Employee{}
	for _, e := range list {
		out[e.Email] = e
	}
	return out
}

func (f *importFixture) paths(t *testing.T) []string {
	t.Helper()
	deps, err := f.dir.Departments(context.Background(), superAdmin())
	require.NoError(t, err)
	byID := map[string]directory.Department{}
	for _, d := range deps {
		byID[d.ID] = d
	}
	var out []string
	for _, d := range deps {
		p := d.Name
		for x := d; x.Parent != ""; {
			x = byID[x.Parent]
			p = x.Name + "/" + p
		}
		out = append(out, p)
	}
	return out
}

func codes(ps []staffcsv.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d:%d:%s", p.Line, p.Column, p.Code))
	}
	return out
}

const staffFile = "姓名,中文姓名,電郵,職級,員工編號,部門,上司電郵,離職日期\n" +
	"Chan Tai Man,陳大文,tm.chan@acme.com.hk,總監,HK0001,技術部,,\n" +
	"Lam Fung,林峯,fung.lam@acme.com.hk,工程師,HK0002,技術部/後端組,tm.chan@acme.com.hk,\n" +
	"Ho Ka Ho,何家豪,kaho.ho@acme.com.hk,工程師,HK0003,技術部/前端組,tm.chan@acme.com.hk,31/12/2027\n" +
	"Wong Mei Ling,黃美玲,meiling.wong@acme.com.hk,經理,,市場部,,\n"

func TestImport_CreatesEmployeesAndTheirDepartmentsAlongPathsOnce(t *testing.T) {
	f := newImportFixture(t)
	pl, res := f.run(t, superAdmin(), staffFile)
	require.Empty(t, pl.Problems)
	assert.Equal(t, directory.ImportResult{Rows: 4, Created: 4, DepartmentsCreated: 4}, res)
	assert.ElementsMatch(t, []string{"技術部", "技術部/後端組", "技術部/前端組", "市場部"}, f.paths(t))
	assert.ElementsMatch(t, []string{"tm.chan@acme.com.hk", "fung.lam@acme.com.hk", "kaho.ho@acme.com.hk", "meiling.wong@acme.com.hk"}, f.bulk.invited)

	emps := f.byEmail(t)
	chan_, lam := emps["tm.chan@acme.com.hk"], emps["fung.lam@acme.com.hk"]
	assert.Equal(t, "陳大文", chan_.NameZh)
	assert.Equal(t, "Chan Tai Man", chan_.NameEn)
	assert.Equal(t, "HK0001", chan_.EmployeeNumber)
	assert.Equal(t, chan_.ID, lam.Manager, "a manager named by a row of the same file")
	assert.Equal(t, "2027-12-31", emps["kaho.ho@acme.com.hk"].LeaveDate)
	dep, err := f.dir.Department(context.Background(), superAdmin(), lam.Department)
	require.NoError(t, err)
	assert.Equal(t, "後端組", dep.Name)
	assert.Equal(t, 2, dep.Depth)
	assert.Contains(t, f.events.types(), directory.EventStaffImported)
}

func TestImport_SameFileAgainWritesNothing(t *testing.T) {
	f := newImportFixture(t)
	f.run(t, superAdmin(), staffFile)
	before := f.count.writes.Load()
	pl, res := f.run(t, superAdmin(), staffFile)
	require.Empty(t, pl.Problems)
	assert.Equal(t, directory.ImportResult{Rows: 4, Unchanged: 4}, res)
	assert.Zero(t, f.count.writes.Load()-before, "writes on the second import")
	assert.Len(t, f.paths(t), 4)
}

func TestImport_ChangedRowUpdatesTheEmployeeMatchedByEmail(t *testing.T) {
	f := newImportFixture(t)
	f.run(t, superAdmin(), staffFile)
	id := f.byEmail(t)["fung.lam@acme.com.hk"].ID
	changed := strings.Replace(staffFile, "Lam Fung,林峯,fung.lam@acme.com.hk,工程師,HK0002,技術部/後端組", "Lam Fung,林峯,fung.lam@acme.com.hk,高級工程師,HK0012,技術部/後端組/平台組", 1)
	pl, res := f.run(t, superAdmin(), changed)
	require.Empty(t, pl.Problems)
	assert.Equal(t, directory.ImportResult{Rows: 4, Updated: 1, Unchanged: 3, DepartmentsCreated: 1}, res)
	lam := f.byEmail(t)["fung.lam@acme.com.hk"]
	assert.Equal(t, id, lam.ID)
	assert.Equal(t, "高級工程師", lam.Rank)
	assert.Equal(t, "HK0012", lam.EmployeeNumber)
	assert.Contains(t, f.paths(t), "技術部/後端組/平台組")

	// The old number is free again; the new one is taken.
	_, err := f.dir.UpdateEmployee(context.Background(), superAdmin(), f.byEmail(t)["meiling.wong@acme.com.hk"].ID, directory.EmployeeChange{EmployeeNumber: ptr("HK0002")})
	require.NoError(t, err)
	_, err = f.dir.UpdateEmployee(context.Background(), superAdmin(), f.byEmail(t)["meiling.wong@acme.com.hk"].ID, directory.EmployeeChange{EmployeeNumber: ptr("HK0012")})
	assert.Equal(t, problem.Conflict, problem.KindOf(err))
}

func TestImport_ColumnsTheFileLacksAreKept(t *testing.T) {
	f := newImportFixture(t)
	e := f.emp(t, "Chan", "", func(n *directory.NewEmployee) {
		n.Email, n.Phone, n.Title = "tm.chan@acme.com.hk", "91234567", "Director"
	})
	pl, res := f.run(t, superAdmin(), "Email,Rank\ntm.chan@acme.com.hk,總監\n")
	// No name column: a file must name people.
	require.NotEmpty(t, pl.Problems)
	assert.Zero(t, res.Updated)

	pl, res = f.run(t, superAdmin(), "Name,Email,Rank\nChan,tm.chan@acme.com.hk,總監\n")
	require.Empty(t, pl.Problems, "%v", codes(pl.Problems))
	assert.Equal(t, 1, res.Updated)
	got := f.byEmail(t)["tm.chan@acme.com.hk"]
	assert.Equal(t, e.ID, got.ID)
	assert.Equal(t, "總監", got.Rank)
	assert.Equal(t, "+85291234567", got.Phone, "no phone column: kept")
	assert.Equal(t, "Director", got.Title, "no title column: kept")
}

func TestImport_EmployeeNumberOfAnotherEmployeeIsAProblem(t *testing.T) {
	f := newImportFixture(t)
	f.run(t, superAdmin(), staffFile)
	before := f.count.writes.Load()
	pl, _ := f.run(t, superAdmin(), "Name,Email,Employee Number\nLam Fung,fung.lam@acme.com.hk,HK0001\n")
	require.Len(t, pl.Problems, 1)
	assert.Equal(t, "2:3:"+directory.CodeMatchConflict, codes(pl.Problems)[0])
	assert.Contains(t, pl.Problems[0].Message.EN, "belongs to")
	assert.Zero(t, f.count.writes.Load()-before)
}

// A row whose employee number is stored but whose address is new moves
// that employee's sign-in address: shown in the dry run as a change of the
// email field, written through identity, and not again.
func TestImport_NewAddressForAStoredNumberMovesTheEmployee(t *testing.T) {
	f := newImportFixture(t)
	f.run(t, superAdmin(), staffFile)
	lam := f.byEmail(t)["fung.lam@acme.com.hk"]
	const file = "Name,Email,Employee Number\nLam Fung,Fung.Lam2@acme.com.hk,HK0002\n"

	before := f.count.writes.Load()
	pl, err := f.dir.PlanImport(ctx, superAdmin(), decode(t, file))
	require.NoError(t, err)
	require.Empty(t, pl.Problems, "%v", codes(pl.Problems))
	assert.Equal(t, 1, pl.Updates)
	assert.Equal(t, []directory.RowChange{{Line: 2, Employee: lam.ID, Fields: []string{"email"},
		EmailFrom: "fung.lam@acme.com.hk", EmailTo: "fung.lam2@acme.com.hk"}}, pl.Changes)
	assert.Zero(t, f.count.writes.Load()-before, "a dry run writes nothing")

	pl, res := f.run(t, superAdmin(), file)
	require.Empty(t, pl.Problems)
	assert.Equal(t, directory.ImportResult{Rows: 1, Updated: 1}, res)
	emps := f.byEmail(t)
	assert.Equal(t, lam.ID, emps["fung.lam2@acme.com.hk"].ID)
	assert.NotContains(t, emps, "fung.lam@acme.com.hk")
	require.Len(t, f.accounts.moved, 1, "the account's address moves with the record")
	assert.Equal(t, lam.ID, f.accounts.moved[0].User)
	assert.Equal(t, "fung.lam2@acme.com.hk", f.accounts.moved[0].Email)

	before = f.count.writes.Load()
	pl, res = f.run(t, superAdmin(), file)
	require.Empty(t, pl.Problems)
	assert.Equal(t, directory.ImportResult{Rows: 1, Unchanged: 1}, res, "the same file again changes nothing")
	assert.Zero(t, f.count.writes.Load()-before)
	assert.Len(t, f.accounts.moved, 1)
}

func TestImport_NewAddressForAStoredNumberMustBeFreeAndAllowed(t *testing.T) {
	f := newImportFixture(t)
	f.run(t, superAdmin(), staffFile)
	f.bulk.holders["taken@acme.com.hk"] = identity.EmailHolder{Tenant: "c-other", User: "u-other"}
	ho := f.byEmail(t)["kaho.ho@acme.com.hk"]
	_, err := f.dir.DeactivateEmployee(ctx, superAdmin(), ho.ID)
	require.NoError(t, err)
	before := f.count.writes.Load()
	pl, res := f.run(t, superAdmin(), "Name,Email,Employee Number\n"+
		"Chan Tai Man,taken@acme.com.hk,HK0001\n"+ // another account has it
		"Lam Fung,fung.lam@gmail.com,HK0002\n"+ // free mail
		"Ho Ka Ho,kaho.ho2@acme.com.hk,HK0003\n"+ // deactivated
		"Wong Mei Ling,meiling.wong@acme.com.hk,\n") // fine alone
	assert.Equal(t, []string{"2:2:" + directory.CodeEmailTaken, "3:2:" + directory.CodeEmailNotAllowed, "4:2:" + directory.CodeDeactivated},
		codes(pl.Problems))
	assert.Contains(t, pl.Problems[0].Message.EN, "tm.chan@acme.com.hk")
	assert.Equal(t, directory.ImportResult{}, res)
	assert.Zero(t, f.count.writes.Load()-before, "nothing written")
	assert.Empty(t, f.accounts.moved)
}

func TestImport_NumberMatchesTheSameEmployeeAsTheAddress(t *testing.T) {
	f := newImportFixture(t)
	f.run(t, superAdmin(), staffFile)
	// Matched by address and by number, both the same person: an update.
	pl, res := f.run(t, superAdmin(), "Name,Email,Employee Number,Title\nLam Fung,fung.lam@acme.com.hk,hk0002,Engineer\n")
	require.Empty(t, pl.Problems, "%v", codes(pl.Problems))
	assert.Equal(t, 1, res.Updated)
	assert.Equal(t, "Engineer", f.byEmail(t)["fung.lam@acme.com.hk"].Title)
}

func TestImport_ProblemsStopTheWholeImport(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*importFixture)
		actor func(*importFixture) identity.Actor
		file  string
		want  []string // line:column:code
	}{
		{
			name: "the same address twice in the file",
			file: "Name,Email\nChan,tm.chan@acme.com.hk\nLee,sm.lee@acme.com.hk\nChan Again,TM.Chan@acme.com.hk\n",
			want: []string{"2:2:" + staffcsv.CodeDuplicateEmail, "4:2:" + staffcsv.CodeDuplicateEmail},
		},
		{
			name: "an address with an account in another company",
			setup: func(f *importFixture) {
				f.bulk.holders["sm.lee@acme.com.hk"] = identity.EmailHolder{Tenant: "c-other", User: "u-other"}
			},
			file: "Name,Email\nChan,tm.chan@acme.com.hk\nLee,sm.lee@acme.com.hk\n",
			want: []string{"3:2:" + directory.CodeEmailTaken},
		},
		{
			name: "an address not on the company's domain",
			file: "Name,Email\nChan,tm.chan@acme.com.hk\nLee,lee@gmail.com\n",
			want: []string{"3:2:" + directory.CodeEmailNotAllowed},
		},
		{
			name: "a manager no one has",
			file: "Name,Email,Manager Email\nChan,tm.chan@acme.com.hk,boss@acme.com.hk\n",
			want: []string{"2:3:" + directory.CodeManagerNotFound},
		},
		{
			name: "managers in a circle",
			file: "Name,Email,Manager Email\nChan,tm.chan@acme.com.hk,sm.lee@acme.com.hk\nLee,sm.lee@acme.com.hk,tm.chan@acme.com.hk\n",
			want: []string{"2:3:" + directory.CodeManagerCycle, "3:3:" + directory.CodeManagerCycle},
		},
		{
			name: "a department admin's row outside their subtree",
			setup: func(f *importFixture) {
				tech := f.dept(t, "技術部", "")
				f.dept(t, "後端組", tech.ID)
				f.dept(t, "市場部", "")
			},
			actor: func(f *importFixture) identity.Actor {
				deps, _ := f.dir.Departments(context.Background(), superAdmin())
				for _, d := range deps {
					if d.Name == "技術部" {
						return dirAdmin(d.ID)
					}
				}
				panic("no 技術部")
			},
			file: "Name,Email,Department\nChan,tm.chan@acme.com.hk,技術部/後端組/平台組\nLee,sm.lee@acme.com.hk,市場部\nHo,kh.ho@acme.com.hk,新部門\nNg,sy.ng@acme.com.hk,\n",
			want: []string{"3:3:" + directory.CodeOutOfScope, "4:3:" + directory.CodeOutOfScope, "5:3:" + directory.CodeOutOfScope},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newImportFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			a := superAdmin()
			if tt.actor != nil {
				a = tt.actor(f)
			}
			before := f.count.writes.Load()
			pl, res := f.run(t, a, tt.file)
			assert.Equal(t, tt.want, codes(pl.Problems))
			for _, p := range pl.Problems {
				assert.NotEmpty(t, p.Message.EN)
				assert.NotEmpty(t, p.Message.ZH)
			}
			assert.Equal(t, directory.ImportResult{}, res)
			assert.Zero(t, f.count.writes.Load()-before, "writes")
			assert.Empty(t, f.bulk.invited)
		})
	}
}

func TestImport_DepartmentAdminImportsIntoTheirSubtree(t *testing.T) {
	f := newImportFixture(t)
	tech := f.dept(t, "Technology", "")
	tech.NameZh = "技術部"
	_, err := f.dir.UpdateDepartment(context.Background(), superAdmin(), tech.ID, directory.DepartmentChange{NameZh: ptr("技術部")})
	require.NoError(t, err)
	pl, res := f.run(t, dirAdmin(tech.ID), "Name,Email,Department\nChan,tm.chan@acme.com.hk,技術部/後端組\nLee,sm.lee@acme.com.hk,technology\n")
	require.Empty(t, pl.Problems, "%v", codes(pl.Problems))
	assert.Equal(t, 2, res.Created)
	assert.Equal(t, 1, res.DepartmentsCreated, "found by its Chinese name and by its English name without case")
	assert.Equal(t, tech.ID, f.byEmail(t)["sm.lee@acme.com.hk"].Department)
}

func TestImport_NonAdminsMayNotImport(t *testing.T) {
	f := newImportFixture(t)
	_, _, err := f.dir.Import(context.Background(), employee("u-someone"), decode(t, staffFile), directory.ImportOptions{})
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
}

func TestImport_AnAccountWithoutARecordGetsOne(t *testing.T) {
	f := newImportFixture(t)
	f.bulk.holders["tm.chan@acme.com.hk"] = identity.EmailHolder{Tenant: tenant, User: "u-first-admin"}
	f.accounts.existing = map[string]identity.UserView{"u-first-admin": {ID: "u-first-admin", Email: "tm.chan@acme.com.hk", Status: identity.UserActive}}
	pl, res := f.run(t, superAdmin(), "Name,Email\nChan,tm.chan@acme.com.hk\nLee,sm.lee@acme.com.hk\n")
	require.Empty(t, pl.Problems, "%v", codes(pl.Problems))
	assert.Equal(t, 2, res.Created)
	assert.Equal(t, "u-first-admin", f.byEmail(t)["tm.chan@acme.com.hk"].ID)
	assert.Equal(t, []string{"sm.lee@acme.com.hk"}, f.bulk.invited, "no second account")
}

func TestImport_ManyRowsInTransactionsOfAtMostAHundredWithProgress(t *testing.T) {
	f := newImportFixture(t)
	var b strings.Builder
	b.WriteString("Name,Email,Employee Number,Department\n")
	const n = 450
	for i := range n {
		fmt.Fprintf(&b, "Staff %d,staff%03d@acme.com.hk,E%03d,部門%d/組%d\n", i, i, i, i%7, i%3)
	}
	var seen []int
	pl, res, err := f.dir.Import(context.Background(), superAdmin(), decode(t, b.String()), directory.ImportOptions{
		Progress: func(done, total int) {
			assert.Equal(t, n+7+21, total)
			seen = append(seen, done)
		}})
	require.NoError(t, err)
	require.Empty(t, pl.Problems, "%v", codes(pl.Problems))
	assert.Equal(t, n, res.Created)
	assert.Equal(t, 28, res.DepartmentsCreated)
	assert.Len(t, f.byEmail(t), n)
	assert.Greater(t, f.bulk.batches, n/25, "several accounts a transaction")
	require.NotEmpty(t, seen)
	assert.IsIncreasing(t, seen)
	assert.Equal(t, n+28, seen[len(seen)-1])
}

// crashing fails every transaction after the first `after`, as a function
// killed half-way would stop writing.
type crashing struct {
	table.Store
	after, seen atomic.Int64
}

func (c *crashing) Transact(ctx context.Context, ops []table.Op) error {
	if c.seen.Add(1) > c.after.Load() {
		return errors.New("crashed")
	}
	return c.Store.Transact(ctx, ops)
}

func TestImport_RunAgainAfterACrashConvergesWithEveryoneOnce(t *testing.T) {
	f := newImportFixture(t)
	crash := &crashing{Store: f.store}
	crash.after.Store(6) // the departments, then part of the employees
	bulk := &bulkAccounts{accounts: &accounts{store: crash}, holders: map[string]identity.EmailHolder{}}
	dir := directory.New(directory.Deps{Store: crash, Accounts: bulk, Events: f.events, Now: f.dir.Now})
	var b strings.Builder
	b.WriteString("Name,Email,Employee Number,Department,Manager Email\n")
	const n = 300
	for i := range n {
		fmt.Fprintf(&b, "Staff %d,staff%03d@acme.com.hk,E%03d,部門%d/組%d,staff000@acme.com.hk\n", i, i, i, i%4, i%3)
	}
	sh := decode(t, strings.Replace(b.String(), ",staff000@acme.com.hk\n", ",\n", 1))
	_, res, err := dir.Import(context.Background(), superAdmin(), sh, directory.ImportOptions{})
	require.Error(t, err)
	require.Positive(t, res.Created, "some were written before the crash")
	require.Less(t, res.Created, n)

	crash.after.Store(1 << 40)
	pl, res2, err := dir.Import(context.Background(), superAdmin(), sh, directory.ImportOptions{})
	require.NoError(t, err)
	require.Empty(t, pl.Problems)
	assert.Equal(t, n, res.Created+res2.Created, "everyone created once")
	assert.Equal(t, n-res2.Created, res2.Unchanged, "what the first run wrote is unchanged")
	assert.Zero(t, res2.DepartmentsCreated, "the departments were written before the crash")
	emps := f.byEmail(t)
	assert.Len(t, emps, n)
	boss := emps["staff000@acme.com.hk"].ID
	for _, e := range emps {
		if e.ID != boss {
			assert.Equal(t, boss, e.Manager)
		}
	}
	assert.Len(t, f.paths(t), 4+12)
}

func TestExport_ListsTheAdminsScopeWithPathsAndPrivateFields(t *testing.T) {
	f := newImportFixture(t)
	f.run(t, superAdmin(), staffFile)
	emps := f.byEmail(t)
	tech := emps["tm.chan@acme.com.hk"].Department

	all, err := f.dir.Export(context.Background(), superAdmin())
	require.NoError(t, err)
	require.Len(t, all, 4)
	assert.Equal(t, []string{"市場部"}, all[0].DepartmentPath, "in tree order")

	scoped, err := f.dir.Export(context.Background(), dirAdmin(tech))
	require.NoError(t, err)
	var got []string
	for _, e := range scoped {
		got = append(got, e.Email)
		assert.NotEmpty(t, e.EmployeeNumber, "private fields for the admin of their department")
		assert.Equal(t, "技術部", e.DepartmentPath[0])
	}
	assert.ElementsMatch(t, []string{"tm.chan@acme.com.hk", "fung.lam@acme.com.hk", "kaho.ho@acme.com.hk"}, got)
	for _, e := range scoped {
		if e.Email == "fung.lam@acme.com.hk" {
			assert.Equal(t, []string{"技術部", "後端組"}, e.DepartmentPath)
			assert.Equal(t, "tm.chan@acme.com.hk", e.ManagerEmail)
		}
	}

	_, err = f.dir.Export(context.Background(), employee(emps["fung.lam@acme.com.hk"].ID))
	assert.Equal(t, problem.Forbidden, problem.KindOf(err))
}
