package jwtauth

import (
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// flattenClaims renders every claim as a string, the way API Gateway fills
// requestContext.authorizer.jwt.claims (map[string]string in aws-lambda-go's
// events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription):
//
//	"sub": "u-1"                 -> "u-1"
//	"exp": 1612061676            -> "1612061676" (the literal, not 1.612061676e+09)
//	"email_verified": true       -> "true"
//	"roles": ["user", "editor"]  -> "[user editor]"
//	"address": {"city": "HK"}    -> "map[city:HK]"
//
// Numbers are json.Number (the parser uses WithJSONNumber), so fmt prints
// them as written in the token, also inside arrays and objects.
func flattenClaims(c jwt.MapClaims) map[string]string {
	out := make(map[string]string, len(c))
	for k, v := range c {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}

// tokenScopes returns the scopes in the token's scope and scp claims. Each
// may be a space-separated string (RFC 6749 section 3.3) or an array of
// strings (as some identity providers write scp).
func tokenScopes(c jwt.MapClaims) []string {
	var out []string
	for _, name := range [...]string{"scope", "scp"} {
		switch v := c[name].(type) {
		case string:
			out = append(out, strings.Fields(v)...)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok && s != "" {
					out = append(out, s)
				}
			}
		}
	}
	return out
}
