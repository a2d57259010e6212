package identity

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

// "Where you're signed in": a user's live sign-ins (sessions, one refresh
// token family each), and ending them one by one or all but the caller's.

// SessionEndedByUser is SessionEnded's reason when the user ended it.
const SessionEndedByUser = "user"

// SessionView is one live sign-in of a user.
type SessionView struct {
	ID         string    `json:"id"` // the sid of its access tokens
	StartedAt  time.Time `json:"startedAt"`
	LastUsedAt time.Time `json:"lastUsedAt"` // its last refresh; StartedAt before any
	// ExpiresAt is when it ends unless it is refreshed before.
	ExpiresAt time.Time `json:"expiresAt"`
	DeviceID  string    `json:"deviceId,omitempty"`
	// Device names the device for people, in the caller's language, from
	// Browser and OS, which are read from UserAgent ("" when not known).
	Device     string   `json:"device"`
	Browser    string   `json:"browser,omitempty"`
	OS         string   `json:"os,omitempty"`
	UserAgent  string   `json:"userAgent,omitempty"`
	SignInIP   string   `json:"signInIp,omitempty"`
	LastUsedIP string   `json:"lastUsedIp,omitempty"` // of its last refresh; SignInIP before any
	Methods    []string `json:"methods"`              // AMRPassword, AMROTP, AMRFederated
	// Current marks the caller's own sign-in.
	Current bool `json:"current"`
}

var textNoSession = i18n.Text{
	EN: "There is no such sign-in of yours. It may have ended already.",
	ZH: "找不到你的這個登入，可能已經結束。",
}

// ListSessions lists the actor's live sign-ins, newest first; the actor's
// own is Current. lang is the language of the device labels.
func (s *Service) ListSessions(ctx context.Context, a Actor, lang i18n.Lang) ([]SessionView, error) {
	const op = "identity.ListSessions"
	if err := Authorize(a, PermOwnSessions); err != nil {
		return nil, err
	}
	views, err := s.sessionViews(ctx, a, a.User, lang)
	return views, problem.Wrap(op, err)
}

// UserSessions lists the live sign-ins of the user id of the actor's
// company, for incident response (see PermReviewSessions). A user of
// another company is not found.
func (s *Service) UserSessions(ctx context.Context, a Actor, id string, lang i18n.Lang) ([]SessionView, error) {
	const op = "identity.UserSessions"
	if err := Authorize(a, PermReviewSessions); err != nil {
		return nil, err
	}
	if _, err := s.loadUser(ctx, a.Tenant, id); errors.Is(err, table.ErrNotFound) {
		return nil, noUser(op, err)
	} else if err != nil {
		return nil, storeErr(op, err)
	}
	views, err := s.sessionViews(ctx, a, id, lang)
	return views, problem.Wrap(op, err)
}

// EndSession ends the actor's own sign-in id: its refresh tokens stop
// rotating and, through the session check, its access tokens stop working
// (the caller's own included, like Logout). Anything that is not a live
// sign-in of the actor, another user's or company's included, is a 404.
func (s *Service) EndSession(ctx context.Context, a Actor, id string) error {
	const op = "identity.EndSession"
	if err := Authorize(a, PermOwnSessions); err != nil {
		return err
	}
	live, err := s.liveSessions(ctx, a.Tenant, a.User)
	if err != nil {
		return problem.Wrap(op, err)
	}
	if !slices.ContainsFunc(live, func(f token.Family) bool { return f.SessionID == id }) {
		return problem.E(op, problem.NotFound, problem.Code("session-not-found"), textNoSession, "not a live session of the caller")
	}
	if _, err := s.Refreshes.RevokeSession(ctx, a.Tenant, id); err != nil {
		return problem.Wrap(op, err)
	}
	s.sessionEnded(ctx, a, id)
	return nil
}

// EndOtherSessions ends every live sign-in of the actor but the actor's
// own, and returns the IDs of those it ended.
func (s *Service) EndOtherSessions(ctx context.Context, a Actor) ([]string, error) {
	const op = "identity.EndOtherSessions"
	if err := Authorize(a, PermOwnSessions); err != nil {
		return nil, err
	}
	if a.SessionID == "" {
		return nil, problem.E(op, problem.Invalid, problem.Code("no-session"), "token without sid")
	}
	ended, err := s.endOtherSessions(ctx, a.Tenant, a.User, a.SessionID)
	for _, id := range ended {
		s.sessionEnded(ctx, a, id)
	}
	return ended, problem.Wrap(op, err)
}

// sessionEnded records that the actor ended their sign-in id.
func (s *Service) sessionEnded(ctx context.Context, a Actor, id string) {
	s.publish(ctx, a.Tenant, a.User, EventSessionEnded, map[string]any{
		"user": a.User, "session": id, "reason": SessionEndedByUser, "current": id == a.SessionID,
	})
}

// liveSessions are the live sign-ins of user, newest first: one family
// per session (the newest live one).
func (s *Service) liveSessions(ctx context.Context, tenant, user string) ([]token.Family, error) {
	families, err := s.Refreshes.Families(ctx, tenant, user)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var live []token.Family
	for _, f := range families {
		if f.Live(now) && !slices.ContainsFunc(live, func(l token.Family) bool { return l.SessionID == f.SessionID }) {
			live = append(live, f)
		}
	}
	return live, nil
}

// endOtherSessions revokes every live sign-in of user but the session keep,
// and returns the IDs of those it ended (so far, on error).
func (s *Service) endOtherSessions(ctx context.Context, tenant, user, keep string) ([]string, error) {
	live, err := s.liveSessions(ctx, tenant, user)
	if err != nil {
		return nil, err
	}
	var ended []string
	for _, f := range live {
		if f.SessionID == keep {
			continue
		}
		if _, err := s.Refreshes.RevokeSession(ctx, tenant, f.SessionID); err != nil {
			return ended, err
		}
		ended = append(ended, f.SessionID)
	}
	return ended, nil
}

// sessionViews are user's live sign-ins as a sees them (Current marks a's own).
func (s *Service) sessionViews(ctx context.Context, a Actor, user string, lang i18n.Lang) ([]SessionView, error) {
	live, err := s.liveSessions(ctx, a.Tenant, user)
	if err != nil {
		return nil, err
	}
	views := make([]SessionView, 0, len(live))
	for _, f := range live {
		browser, os := parseUserAgent(f.Origin.UserAgent)
		views = append(views, SessionView{
			ID: f.SessionID, StartedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt, ExpiresAt: f.IdleExpiresAt,
			DeviceID: f.Origin.DeviceID, Device: deviceLabel(browser, os).T(lang), Browser: browser, OS: os,
			UserAgent: f.Origin.UserAgent, SignInIP: f.Origin.IP, LastUsedIP: f.LastIP,
			Methods: append([]string{}, f.AMR...), Current: user == a.User && f.SessionID == a.SessionID,
		})
	}
	return views, nil
}
