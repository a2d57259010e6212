package token

import (
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// Codes of the refresh errors, all Unauthenticated (401). Clients react to
// any of them the same way, by signing in again; the codes tell the logs
// (and the user) why.
const (
	CodeRefreshInvalid problem.Code = "refresh-token-invalid" // malformed, unknown, or of another company
	CodeRefreshExpired problem.Code = "refresh-token-expired" // past its own or its sign-in's lifetime
	CodeRefreshReused  problem.Code = "refresh-token-reused"  // presented again: the sign-in is revoked
	CodeRefreshRevoked problem.Code = "refresh-token-revoked" // its sign-in was ended (logout, deactivation, reuse)
)

var (
	textRefreshInvalid = i18n.Text{
		EN: "Your sign-in is not valid. Please sign in again.",
		ZH: "你的登入憑證無效，請重新登入。",
	}
	textRefreshExpired = i18n.Text{
		EN: "Your sign-in has expired. Please sign in again.",
		ZH: "你的登入已逾時，請重新登入。",
	}
	textRefreshReused = i18n.Text{
		EN: "For your security, this sign-in was ended because its refresh token was used more than once. Please sign in again.",
		ZH: "為保障你的帳戶安全，由於登入憑證被重複使用，此登入已被終止。請重新登入。",
	}
	textRefreshRevoked = i18n.Text{
		EN: "This sign-in has ended. Please sign in again.",
		ZH: "此登入已結束，請重新登入。",
	}
)

// refreshError is a 401 with code and text; cause goes to the logs only and
// must never hold the token.
func refreshError(op string, code problem.Code, text i18n.Text, cause string) error {
	return problem.E(op, problem.Unauthenticated, code, text, cause)
}
