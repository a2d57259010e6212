// Package directory is the company's organisation: a multi-level tree of
// departments with their heads, the employee records (profile fields on
// top of identity's accounts), each employee's chain of managers, the
// company's display-name format, and the one authorisation decision of
// the directory, which limits department-scoped admins to their subtree.
//
// It is domain code: it stores through the table port and publishes
// through the event port, creates and deactivates accounts through the
// small Accounts interface (identity's Service implements it), imports no
// AWS SDK and knows no HTTP. directoryfn wires it to the API.
//
// Storage layout (all in the company's tenant):
//
//	PK         SK              what
//	DEPTS      TREE            the tree's version: every change of the tree's shape bumps it
//	DEPTS      DEPT#<id>       a department (the whole tree is one query)
//	EMPLOYEES  EMP#<user id>   an employee record (one partition: search is one query)
//	EMPNO#<n>  CLAIM           the employee holding employee number n (upper-cased)
//	SETTINGS   DIRECTORY       the directory's settings (display-name format)
//
// Concurrency: a change of the tree's shape (create, move, delete) is one
// transaction conditional on the TREE item's version, so two moves that
// would together make a cycle cannot both succeed. A write that puts an
// employee into a department also rewrites that department item with its
// version condition, so a department cannot be deleted under an employee
// being moved into it. Lost races are retried after reading again.
package directory

import (
	"context"
	"log/slog"
	"time"

	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/table"
)

// EventSource is the source of the directory's events on the bus.
const EventSource = "lantau.directory"

// Event types.
const (
	EventDepartmentCreated        = "DepartmentCreated"
	EventDepartmentRenamed        = "DepartmentRenamed"
	EventDepartmentMoved          = "DepartmentMoved"
	EventDepartmentHeadChanged    = "DepartmentHeadChanged"
	EventDepartmentDeleted        = "DepartmentDeleted"
	EventEmployeeCreated          = "EmployeeCreated"
	EventEmployeeUpdated          = "EmployeeUpdated"
	EventEmployeeDeactivated      = "EmployeeDeactivated"
	EventDisplayNameFormatChanged = "DisplayNameFormatChanged"
)

// Limits.
const (
	// MaxDepth is the deepest a department may sit: top-level departments
	// are at depth 1.
	MaxDepth = 15
	// MaxDepartments bounds a company's tree (it is loaded whole).
	MaxDepartments = 2000
	// DefaultPageSize and MaxPageSize bound a page of employees.
	DefaultPageSize = 50
	MaxPageSize     = 200
	// maxAttempts is how often a write lost to a concurrent one is retried.
	maxAttempts = 8
)

// Accounts is what the directory needs of identity: accounts created,
// deactivated and given a new address for callers that authorised the actor themselves, and the
// state of accounts. *identity.Service implements it.
type Accounts interface {
	ProvisionUser(ctx context.Context, a identity.Actor, p identity.Provision) (identity.UserView, error)
	DeactivateUser(ctx context.Context, a identity.Actor, id string) (identity.UserView, error)
	Reinvite(ctx context.Context, a identity.Actor, id string) (identity.UserView, error)
	ChangeEmail(ctx context.Context, a identity.Actor, ch identity.EmailChange) (identity.EmailChanged, error)
	AccountStatuses(ctx context.Context, tenant string, ids []string) (map[string]string, error)
	Account(ctx context.Context, tenant, id string) (identity.UserView, error)
}

var _ Accounts = (*identity.Service)(nil)

// Deps are what Directory needs. Store is always required; Accounts and
// Events are required for every operation but DepartmentExists and
// Within. Log and Now are optional.
type Deps struct {
	Store    table.Store
	Accounts Accounts
	Events   event.Publisher
	Log      *slog.Logger
	Now      func() time.Time
}

// Directory is the directory's domain. It is safe for concurrent use.
type Directory struct {
	Deps
}

// New returns a Directory over deps.
func New(deps Deps) *Directory {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	return &Directory{Deps: deps}
}

var _ identity.Departments = (*Directory)(nil)

// publish sends one event. The change it reports has happened; a bus
// failure is logged loudly rather than undoing it or failing the request.
func (d *Directory) publish(ctx context.Context, tenant, actor, typ string, data any) {
	if d.Events == nil {
		d.Log.ErrorContext(ctx, "directory event not published: no publisher", "type", typ, "tenant", tenant)
		return
	}
	e, err := event.New(EventSource, typ, tenant, actor, d.Now(), data)
	if err == nil {
		err = d.Events.Publish(ctx, e)
	}
	if err != nil {
		d.Log.ErrorContext(ctx, "directory event not published", "type", typ, "tenant", tenant, "error", err.Error())
	}
}

var hongKong = i18n.HongKong
