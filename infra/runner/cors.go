package runner

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lantau-hq/lantau/infra/template"
)

// cors is an HTTP API's CorsConfiguration, applied as API Gateway applies
// it: preflight OPTIONS requests are answered by the gateway itself, and
// responses to allowed origins carry the CORS headers.
type cors struct {
	origins     []string // "*" allows any
	methods     []string
	headers     []string
	expose      []string
	maxAge      int
	credentials bool
}

var corsKeys = map[string]bool{"AllowOrigins": true, "AllowMethods": true, "AllowHeaders": true, "ExposeHeaders": true, "MaxAge": true, "AllowCredentials": true}

func readCORS(r *Runner, api string, v any) (*cors, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &template.Error{Resource: api, Property: "CorsConfiguration", Reason: "must be a mapping (the runner does not support CorsConfiguration: true)"}
	}
	c := &cors{}
	for _, k := range sortedKeys(m) {
		if !corsKeys[k] {
			return nil, &template.Error{Resource: api, Property: "CorsConfiguration." + k, Reason: "unknown CORS property"}
		}
		val, err := r.res.Value(m[k], api, "CorsConfiguration."+k)
		if err != nil {
			return nil, err
		}
		list := func() []string {
			var out []string
			items, _ := val.([]any)
			for _, it := range items {
				out = append(out, fmt.Sprint(it))
			}
			return out
		}
		switch k {
		case "AllowOrigins":
			c.origins = list()
		case "AllowMethods":
			c.methods = list()
		case "AllowHeaders":
			c.headers = list()
		case "ExposeHeaders":
			c.expose = list()
		case "MaxAge":
			c.maxAge, _ = strconv.Atoi(fmt.Sprint(val))
		case "AllowCredentials":
			c.credentials = fmt.Sprint(val) == "true"
		}
	}
	return c, nil
}

func (c *cors) allowedOrigin(origin string) (string, bool) {
	if origin == "" {
		return "", false
	}
	if slices.Contains(c.origins, "*") && !c.credentials {
		return "*", true
	}
	for _, o := range c.origins {
		if strings.EqualFold(o, origin) {
			return origin, true
		}
	}
	return "", false
}

// preflight answers an OPTIONS preflight; it reports false when the request is not one.
func (c *cors) preflight(w http.ResponseWriter, req *http.Request) bool {
	if req.Method != http.MethodOptions || req.Header.Get("Origin") == "" || req.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h := w.Header()
	if origin, ok := c.allowedOrigin(req.Header.Get("Origin")); ok {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", strings.Join(c.methods, ","))
		if len(c.headers) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.headers, ","))
		}
		if c.maxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.maxAge))
		}
		if c.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Add("Vary", "Origin")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// decorate adds the CORS headers of an allowed origin to a response.
func (c *cors) decorate(h http.Header, origin string) {
	allowed, ok := c.allowedOrigin(origin)
	if !ok {
		return
	}
	h.Set("Access-Control-Allow-Origin", allowed)
	if len(c.expose) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.expose, ","))
	}
	if c.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Add("Vary", "Origin")
}
