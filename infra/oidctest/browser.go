package oidctest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Login signs account sub in through the provider's own interaction pages,
// in a new browser (a fresh cookie jar): see Browser.Login.
func (p *Provider) Login(ctx context.Context, authURL, sub string) (*url.URL, error) {
	return p.NewBrowser().Login(ctx, authURL, sub)
}

// Browser is a cookie jar and an HTTP client that stop at the client's
// redirect URI. Logins in one Browser share the provider's session: a
// second login finds the user signed in (and, for the same client,
// consent given) and goes straight back to the redirect URI.
type Browser struct {
	client   *http.Client
	redirect *url.URL
	issuer   *url.URL
	// Pages lists the pages the browser was shown, in order, by the form's
	// prompt ("login", "consent"), for tests that check the path taken.
	Pages []string
}

// NewBrowser returns a browser with an empty cookie jar.
func (p *Provider) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	redirect, _ := url.Parse(p.cfg.RedirectURI)
	issuer, _ := url.Parse(p.issuer)
	b := &Browser{redirect: redirect, issuer: issuer}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			switch {
			case b.isCallback(req.URL):
				return http.ErrUseLastResponse // the client's, not ours, to follow
			case req.URL.Scheme != issuer.Scheme || req.URL.Host != issuer.Host:
				return fmt.Errorf("oidctest: redirected off the provider to %s", req.URL.Redacted())
			case len(via) >= 10:
				return errors.New("oidctest: more than 10 redirects")
			}
			return nil
		},
	}
	return b
}

// Login does what a person in a browser does with authURL (an
// authorization request to the provider): it opens it, follows the
// provider's redirects to its login page, submits the login form with sub
// as the login name (the dev interactions take any password; findAccount
// maps the name to the configured account), then submits the consent page,
// and returns the URL the provider finally redirects to at the client's
// redirect URI (with code and state, or error), without following it.
func (b *Browser) Login(ctx context.Context, authURL, sub string) (*url.URL, error) {
	resp, err := b.do(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	for range 6 {
		if cb, ok := b.callback(resp); ok {
			resp.Body.Close()
			return cb, nil
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("oidctest: read %s: %w", resp.Request.URL.Path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("oidctest: provider answered %s at %s: %s", resp.Status, resp.Request.URL.Path, pageText(body))
		}
		f, err := parseForm(body)
		if err != nil {
			return nil, fmt.Errorf("oidctest: page %s: %w: %s", resp.Request.URL.Path, err, pageText(body))
		}
		prompt := f.values.Get("prompt")
		b.Pages = append(b.Pages, prompt)
		switch prompt {
		case "login":
			f.values.Set("login", sub)
			f.values.Set("password", "any password will do")
		case "consent":
		default:
			return nil, fmt.Errorf("oidctest: page %s has a form for prompt %q, which this browser cannot answer", resp.Request.URL.Path, prompt)
		}
		action, err := resp.Request.URL.Parse(f.action)
		if err != nil {
			return nil, fmt.Errorf("oidctest: form action %q: %w", f.action, err)
		}
		if resp, err = b.do(ctx, http.MethodPost, action.String(), f.values); err != nil {
			return nil, err
		}
	}
	resp.Body.Close()
	return nil, fmt.Errorf("oidctest: no redirect to %s after %v", b.redirect, b.Pages)
}

func (b *Browser) do(ctx context.Context, method, target string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("oidctest: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: %s %s: %w", method, req.URL.Redacted(), err)
	}
	return resp, nil
}

// callback returns the redirect to the client's redirect URI that resp is, if any.
func (b *Browser) callback(resp *http.Response) (*url.URL, bool) {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, false
	}
	loc, err := resp.Location()
	if err != nil || !b.isCallback(loc) {
		return nil, false
	}
	return loc, true
}

func (b *Browser) isCallback(u *url.URL) bool {
	return u.Scheme == b.redirect.Scheme && u.Host == b.redirect.Host && u.Path == b.redirect.Path
}

type form struct {
	action string
	values url.Values
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-z][a-z0-9_-]*)\s*=\s*"([^"]*)"`)
	tagRE   = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
)

// parseForm reads the first POST form of an interaction page: its action
// and the values of its named inputs, as a browser would submit them.
func parseForm(page []byte) (form, error) {
	for _, m := range formRE.FindAllSubmatch(page, -1) {
		attrs := attributes(m[1])
		if !strings.EqualFold(attrs["method"], "post") {
			continue
		}
		f := form{action: attrs["action"], values: url.Values{}}
		for _, in := range inputRE.FindAllSubmatch(m[2], -1) {
			a := attributes(in[1])
			if a["name"] != "" {
				f.values.Set(a["name"], a["value"])
			}
		}
		return f, nil
	}
	return form{}, errors.New("no POST form")
}

func attributes(b []byte) map[string]string {
	attrs := map[string]string{}
	for _, m := range attrRE.FindAllSubmatch(b, -1) {
		attrs[strings.ToLower(string(m[1]))] = html.UnescapeString(string(m[2]))
	}
	return attrs
}

// pageText is the visible text of a page, shortened, for error messages.
func pageText(page []byte) string {
	s := strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(string(page), " "))), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

func randomString() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
