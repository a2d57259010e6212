package sso

import (
	"context"

	"github.com/lantau-hq/lantau/shared/problem"
)

// Directory finds a company's employees; the identity package implements
// it. FindActiveByEmail looks email (lower-case) up among tenant's active
// employees; ok is false when none has it (or only a deactivated one).
type Directory interface {
	FindActiveByEmail(ctx context.Context, tenant, email string) (userID string, ok bool, err error)
}

// Login completes a sign-in (see Complete) and matches the identity to an
// active employee of the company by verified email. It returns the
// employee's userID; or, when no employee has the email and the company
// has turned CreateUsers on, an empty userID and create true: the caller
// creates the user from the Identity. With CreateUsers off, an email with
// no active employee is refused (403 CodeNoEmployee): no silent account
// creation.
func (f *Flow) Login(ctx context.Context, state, code string, dir Directory) (userID string, id Identity, create bool, err error) {
	const op = "sso.Login"
	id, cfg, err := f.complete(ctx, op, state, code)
	if err != nil {
		return "", Identity{}, false, err
	}
	userID, ok, err := dir.FindActiveByEmail(ctx, id.Tenant, id.Email)
	switch {
	case err != nil:
		return "", Identity{}, false, problem.E(op, problem.Other, err)
	case ok && userID != "":
		return userID, id, false, nil
	case cfg.CreateUsers:
		return "", id, true, nil
	}
	return "", Identity{}, false, problem.E(op, problem.Forbidden, CodeNoEmployee, textNoEmployee,
		"no active employee with email "+id.Email)
}
