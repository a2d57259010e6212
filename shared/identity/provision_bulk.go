package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// This file is ProvisionUser for many accounts at once (the directory's
// staff import). Like provision.go it does NOT authorise: the caller MUST
// have decided that the actor may create these people. The invariants are
// ProvisionUser's: an account is its user item, its e-mail claim (one per
// address across every company, conditional on not existing) and its
// invitation link, written in one transaction with the caller's items.

// opsPerAccount is what one account writes besides its Extra: the e-mail
// claim, the user item and the invitation link.
const opsPerAccount = 3

// OpsPerAccount is how many transaction operations ProvisionUsers spends on
// each account besides its Extra, for callers packing batches within
// table.MaxTransactOps.
const OpsPerAccount = opsPerAccount

// EmailHolder is the company and user an e-mail address belongs to.
type EmailHolder struct {
	Tenant string
	User   string
}

// InvitationCheck is what CheckInvitations found about one invitation.
type InvitationCheck struct {
	// Email is the address as ProvisionUser would store it ("" when invalid).
	Email string
	// Problems are ProvisionUser's validation failures (name, address,
	// address not on the company's domain).
	Problems []problem.FieldError
	// Holder is who already has an account with the address, if anyone.
	Holder *EmailHolder
}

// CheckInvitations validates invitations to the tenant as ProvisionUser
// would and finds the addresses that already have an account (in this
// company or another), in a few batch reads. It writes nothing: a plan
// made with it can still lose a race, which ProvisionUsers then reports.
func (s *Service) CheckInvitations(ctx context.Context, tenant string, invs []Invitation) ([]InvitationCheck, error) {
	const op = "identity.CheckInvitations"
	company, err := s.loadCompany(ctx, tenant)
	if err != nil {
		return nil, storeErr(op, err)
	}
	out := make([]InvitationCheck, len(invs))
	at := make(map[string][]int, len(invs))
	keys := make([]table.Key, 0, len(invs))
	for i, inv := range invs {
		var f fieldErrors
		checkName(&f, "name", inv.Name)
		email := checkEmail(&f, "email", inv.Email, company.Domain)
		out[i].Problems = f.fields
		if email == "" || len(f.fields) > 0 {
			continue
		}
		out[i].Email = email
		k := strings.ToLower(email)
		if _, seen := at[k]; !seen {
			keys = append(keys, emailKey(email))
		}
		at[k] = append(at[k], i)
	}
	for start := 0; start < len(keys); start += table.MaxBatchGetKeys {
		items, err := s.Store.BatchGet(ctx, keys[start:min(len(keys), start+table.MaxBatchGetKeys)])
		if err != nil {
			return nil, storeErr(op, err)
		}
		for _, it := range items {
			var c emailClaim
			if err := json.Unmarshal(it.Data, &c); err != nil {
				return nil, problem.E(op, problem.Internal, err)
			}
			for _, i := range at[strings.TrimPrefix(it.PK, "EMAIL#")] {
				out[i].Holder = &EmailHolder{Tenant: c.Tenant, User: c.User}
			}
		}
	}
	return out, nil
}

// Provisioned is what ProvisionUsers did.
type Provisioned struct {
	// Users are the accounts created, in the order given.
	Users []UserView
	// MailFailed are the addresses whose invitation could not be sent. Their
	// accounts stay (the other accounts of the transaction were committed
	// with them): an admin sends a new invitation later.
	MailFailed []string
}

// mailWorkers bounds the invitation mails SendInvitations sends at once.
const mailWorkers = 16

// Invitations are the invitation mails of accounts CreateAccounts wrote,
// for SendInvitations. They hold the links' secrets: keep them in memory
// only.
type Invitations struct {
	tenant, actor, company string
	list                   []pendingInvitation
}

type pendingInvitation struct {
	user    User
	secret  string
	lang    i18n.Lang
	expires time.Time
}

// Add appends the invitations of o (of the same company and actor), so
// that the mails of several batches go out, and are announced, together.
func (inv *Invitations) Add(o *Invitations) {
	if o.Len() == 0 {
		return
	}
	if inv.tenant == "" {
		inv.tenant, inv.actor, inv.company = o.tenant, o.actor, o.company
	}
	inv.list = append(inv.list, o.list...)
}

// Len is the number of invitations.
func (inv *Invitations) Len() int {
	if inv == nil {
		return 0
	}
	return len(inv.list)
}

// ProvisionUsers is CreateAccounts then SendInvitations.
func (s *Service) ProvisionUsers(ctx context.Context, a Actor, ps []Provision, shared []table.Op) (Provisioned, error) {
	out, inv, err := s.CreateAccounts(ctx, a, ps, shared)
	if err != nil {
		return out, err
	}
	out.MailFailed = s.SendInvitations(ctx, inv)
	return out, nil
}

// CreateAccounts creates accounts like ProvisionUser, all of them with
// their Extra and the shared ops in ONE transaction (so len(ps)*
// OpsPerAccount + their Extra + len(shared) must be at most
// table.MaxTransactOps), and returns their invitations for
// SendInvitations, so that a caller writing many batches can mail one
// batch while it writes the next. Unlike ProvisionUser, a mail that fails
// later undoes nothing: the accounts were committed together, and undoing
// one would need the others' ops again; SendInvitations reports it
// instead, for the caller to show (an admin invites again).
//
// A condition that fails makes the whole transaction fail: an address that
// has an account meanwhile is a 409 "email-taken" naming it; an Extra op's
// failure wraps a *table.TxError whose Index is the position in the
// flattened Extra of all ps (their Extra in order, then shared).
//
// The caller must have authorised a: CreateAccounts checks only that a
// names a tenant and a user.
func (s *Service) CreateAccounts(ctx context.Context, a Actor, ps []Provision, shared []table.Op) (Provisioned, *Invitations, error) {
	const op = "identity.CreateAccounts"
	if a.Tenant == "" || a.User == "" {
		return Provisioned{}, nil, problem.E(op, problem.Forbidden, problem.Code("forbidden"), textNotAllowed, "no tenant or user")
	}
	if len(ps) == 0 {
		return Provisioned{}, nil, nil
	}
	n := len(shared)
	for _, p := range ps {
		if !userIDRE.MatchString(p.ID) {
			return Provisioned{}, nil, problem.E(op, problem.Internal, "Provision.ID is not from NewUserID: "+p.ID)
		}
		n += opsPerAccount + len(p.Extra)
	}
	if n > table.MaxTransactOps {
		return Provisioned{}, nil, problem.E(op, problem.Internal, fmt.Sprintf("%d operations in one transaction", n))
	}
	company, err := s.loadCompany(ctx, a.Tenant)
	if err != nil {
		return Provisioned{}, nil, storeErr(op, err)
	}
	now := s.Now().UTC()
	expires := now.Add(InvitationTTL)
	inv := &Invitations{tenant: a.Tenant, actor: a.User, company: company.Name, list: make([]pendingInvitation, len(ps))}
	ops := make([]table.Op, 0, n)
	var extra []table.Op
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		var f fieldErrors
		checkName(&f, "name", p.Name)
		email := checkEmail(&f, "email", p.Email, company.Domain)
		if err := f.err(op); err != nil {
			return Provisioned{}, nil, err
		}
		if seen[email] {
			return Provisioned{}, nil, problem.E(op, problem.Internal, "the same address twice in one batch: "+email)
		}
		seen[email] = true
		user := User{ID: p.ID, Email: email, Name: strings.TrimSpace(p.Name), Status: UserInvited,
			Role: RoleEmployee, Lang: string(p.Lang), CreatedAt: now}
		secret := newSecret(a.Tenant)
		_, hash, _ := parseSecret(secret)
		emailItem, err1 := item(emailKey(email), emailClaim{Tenant: a.Tenant, User: user.ID}, 1, time.Time{})
		userOp, err2 := userPut(a.Tenant, user, time.Time{}, table.IfNotExists)
		linkItem, err3 := item(linkKey(a.Tenant, hash), link{Purpose: linkInvitation, User: user.ID, Email: user.Email, ExpiresAt: expires}, 1, expires)
		if err := errors.Join(err1, err2, err3); err != nil {
			return Provisioned{}, nil, problem.E(op, problem.Internal, err)
		}
		ops = append(ops, table.Op{Put: &emailItem, Condition: table.IfNotExists}, userOp, table.Op{Put: &linkItem, Condition: table.IfNotExists})
		extra = append(extra, p.Extra...)
		inv.list[i] = pendingInvitation{user: user, secret: secret, lang: p.Lang, expires: expires}
	}
	accountOps := len(ops)
	extra = append(extra, shared...)
	err = s.Store.Transact(ctx, append(ops, extra...))
	var tx *table.TxError
	switch {
	case err == nil:
	case errors.As(err, &tx) && tx.Index < accountOps && tx.Index%opsPerAccount == 0:
		email := inv.list[tx.Index/opsPerAccount].user.Email
		return Provisioned{}, nil, problem.E(op, problem.Conflict, problem.Code("email-taken"),
			fmt.Errorf("e-mail claim of %s: %v", email, err), // not wrapped: Extra's TxErrors only
			textEmailTaken.Format(email))
	case errors.As(err, &tx) && tx.Index >= accountOps:
		return Provisioned{}, nil, problem.E(op, problem.Conflict, problem.Code("concurrent-change"),
			&table.TxError{Index: tx.Index - accountOps, Err: tx.Err},
			i18n.Text{EN: "Something changed meanwhile; please try again.", ZH: "資料剛有變更，請再試一次。"})
	default:
		return Provisioned{}, nil, storeErr(op, err)
	}
	out := Provisioned{Users: make([]UserView, len(inv.list))}
	for i, p := range inv.list {
		out.Users[i] = p.user.View()
	}
	return out, inv, nil
}

// SendInvitations mails the invitations of accounts CreateAccounts wrote
// (mailWorkers at a time) and returns the addresses whose mail failed;
// their accounts stay. It publishes one UsersInvited event for them all:
// the audit trail records who invited whom without a bus call per
// account.
func (s *Service) SendInvitations(ctx context.Context, inv *Invitations) (failed []string) {
	if inv.Len() == 0 {
		return nil
	}
	bad := make([]bool, len(inv.list))
	var wg sync.WaitGroup
	sem := make(chan struct{}, mailWorkers)
	for i, p := range inv.list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			url := s.PublicURL + "/v1/users/invitations/accept?token=" + p.secret
			if err := s.send(ctx, invitationMail(p.lang, p.user.Email, inv.tenant, p.user.Name, inv.company, url, p.expires)); err != nil {
				s.Log.ErrorContext(ctx, "invitation not sent; the account stays", "tenant", inv.tenant, "user", p.user.ID, "error", err.Error())
				bad[i] = true
			}
		}()
	}
	wg.Wait()
	ids := make([]string, 0, len(inv.list))
	for i, p := range inv.list {
		if bad[i] {
			failed = append(failed, p.user.Email)
		}
		ids = append(ids, p.user.ID)
	}
	s.publish(ctx, inv.tenant, inv.actor, EventUsersInvited, map[string]any{"users": ids, "mailFailed": len(failed)})
	return failed
}

// EventUsersInvited is the event of SendInvitations: several accounts
// invited at once (data: users, the IDs; mailFailed, how many invitations
// could not be sent).
const EventUsersInvited = "UsersInvited"
