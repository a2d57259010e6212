package identity

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/table"
)

// Registration is what a company's first admin fills in.
type Registration struct {
	CompanyName string
	Domain      string
	DataRegion  string
	AdminName   string
	AdminEmail  string
	Password    string
}

// Registered is the answer to a registration: the company waits for its
// first admin to open the link sent to ConfirmationSentTo.
type Registered struct {
	CompanyID          string    `json:"companyId"`
	Name               string    `json:"name"`
	Domain             string    `json:"domain"`
	DataRegion         string    `json:"dataRegion"`
	Status             string    `json:"status"`
	ConfirmationSentTo string    `json:"confirmationSentTo"`
	ConfirmBy          time.Time `json:"confirmBy"`
}

// fieldErrors collects problems with the input, each with a code that
// decides the problem's own code when it is the most important one.
type fieldErrors struct {
	fields []problem.FieldError
	code   problem.Code
	detail i18n.Text
}

func (f *fieldErrors) add(field, code string, msg i18n.Text) {
	f.fields = append(f.fields, problem.FieldError{Field: field, Code: code, Message: msg})
}

// headline sets the problem's code and detail unless a more important one is set.
func (f *fieldErrors) headline(code problem.Code, detail i18n.Text) {
	if f.code == "" {
		f.code, f.detail = code, detail
	}
}

func (f *fieldErrors) err(op string) error {
	if len(f.fields) == 0 {
		return nil
	}
	f.headline("validation-failed", i18n.Text{EN: "Some fields are not valid.", ZH: "部分欄位無效。"})
	return problem.E(op, problem.Invalid, f.code, f.detail, f.fields)
}

var (
	msgRequired = i18n.Text{EN: "is required", ZH: "必須填寫"}
	msgTooLong  = i18n.Text{EN: "must be at most 200 characters", ZH: "不可超過 200 個字"}
)

func checkName(f *fieldErrors, field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		f.add(field, "required", msgRequired)
	case utf8.RuneCountInString(v) > 200:
		f.add(field, "too-long", msgTooLong)
	}
}

// checkEmail validates an address that must be on the company's domain
// and returns it normalised.
func checkEmail(f *fieldErrors, field, email, domain string) string {
	if strings.TrimSpace(email) == "" {
		f.add(field, "required", msgRequired)
		return ""
	}
	a, err := mail.ParseAddress(email)
	norm, emailDomain := NormalizeEmail(email)
	if _, okDomain := NormalizeDomain(emailDomain); err != nil || a.Address != strings.TrimSpace(email) || a.Name != "" || !okDomain || len(norm) > 254 {
		f.add(field, "email", i18n.Text{EN: "must be a valid e-mail address", ZH: "電郵地址格式無效"})
		return ""
	}
	switch {
	case IsFreeMail(emailDomain):
		f.add(field, "free-mail", textFreeMail(emailDomain))
		f.headline("free-mail-domain", textFreeMail(emailDomain))
	case domain != "" && !OnDomain(emailDomain, domain):
		t := i18n.Text{EN: "must be an address at %s, the company's domain", ZH: "必須是公司網域 %s 的電郵地址"}.Format(domain)
		f.add(field, "not-on-domain", t)
		f.headline("email-not-on-domain", i18n.Text{
			EN: "The e-mail address must be on the company's domain, %s: that is how Lantau knows it belongs to the company.",
			ZH: "電郵地址必須屬於公司網域 %s，Lantau 以此確認你屬於該公司。",
		}.Format(domain))
	}
	return norm
}

func textFreeMail(domain string) i18n.Text {
	return i18n.Text{
		EN: "%s gives addresses to anyone, so it cannot show that you belong to a company. Register with your company's own domain.",
		ZH: "任何人都可以申請 %s 的電郵地址，因此不能證明你屬於某間公司。請以公司自己的網域註冊。",
	}.Format(domain)
}

// Register records a company and its first admin, both pending, claims the
// domain and the admin's address for it, and mails the admin a one-time
// link (ConfirmationTTL). A domain or address already claimed is a 409; of
// concurrent registrations of one domain exactly one succeeds.
func (s *Service) Register(ctx context.Context, r Registration, c Client) (Registered, error) {
	const op = "identity.Register"
	var f fieldErrors
	checkName(&f, "companyName", r.CompanyName)
	domain, ok := NormalizeDomain(r.Domain)
	switch {
	case strings.TrimSpace(r.Domain) == "":
		f.add("domain", "required", msgRequired)
		domain = ""
	case !ok:
		f.add("domain", "domain", i18n.Text{EN: "must be a domain name such as acme.com.hk", ZH: "必須是網域名稱，例如 acme.com.hk"})
		domain = ""
	case IsFreeMail(domain):
		f.add("domain", "free-mail", textFreeMail(domain))
		f.headline("free-mail-domain", textFreeMail(domain))
	}
	if !slices.Contains(DataRegions, r.DataRegion) {
		f.add("dataRegion", "one-of", i18n.Text{
			EN: "must be ap-east-1 (Hong Kong) or ap-southeast-1 (Singapore)",
			ZH: "必須為 ap-east-1（香港）或 ap-southeast-1（新加坡）",
		})
	}
	checkName(&f, "adminName", r.AdminName)
	email := checkEmail(&f, "adminEmail", r.AdminEmail, domain)
	if err := credential.CheckPassword(r.Password, r.AdminEmail, r.AdminName, r.CompanyName, domain); err != nil {
		var pe *problem.Error
		if !errors.As(err, &pe) {
			return Registered{}, problem.E(op, problem.Internal, err)
		}
		f.fields = append(f.fields, pe.Fields...)
		f.headline("password-policy", pe.Detail)
	}
	if err := f.err(op); err != nil {
		return Registered{}, err
	}

	hash, err := credential.Hash(r.Password)
	if err != nil {
		return Registered{}, problem.Wrap(op, err)
	}
	now := s.Now().UTC()
	expires := now.Add(ConfirmationTTL)
	company := Company{
		ID: newID("c-"), Name: strings.TrimSpace(r.CompanyName), Domain: domain, DataRegion: r.DataRegion,
		Status: CompanyPending, CreatedAt: now, SuperAdmins: []string{},
	}
	user := User{
		ID: newID("u-"), Email: email, Name: strings.TrimSpace(r.AdminName), Status: UserPending,
		Role: RoleEmployee, Lang: string(c.Lang), PasswordHash: hash, CreatedAt: now,
	}
	secret := newSecret(company.ID)
	_, linkHash, _ := parseSecret(secret)

	domainItem, err1 := item(domainKey(domain), domainClaim{Tenant: company.ID, Status: CompanyPending, At: now}, 1, expires)
	emailItem, err2 := item(emailKey(email), emailClaim{Tenant: company.ID, User: user.ID}, 1, expires)
	companyOp, err3 := companyPut(company, expires, table.IfNotExists)
	userOp, err4 := userPut(company.ID, user, expires, table.IfNotExists)
	linkItem, err5 := item(linkKey(company.ID, linkHash), link{Purpose: linkConfirmCompany, User: user.ID, ExpiresAt: expires}, 1, expires)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return Registered{}, problem.E(op, problem.Internal, err)
	}
	err = s.Store.Transact(ctx, []table.Op{
		{Put: &domainItem, Condition: table.IfNotExists},
		{Put: &emailItem, Condition: table.IfNotExists},
		companyOp, userOp,
		{Put: &linkItem, Condition: table.IfNotExists},
	})
	switch {
	case err == nil:
	case errors.Is(err, table.ErrConditionFailed) && failedOp(err) == 0:
		return Registered{}, problem.E(op, problem.Conflict, problem.Code("domain-taken"), err, i18n.Text{
			EN: "%s is already registered with Lantau. Ask that company's super admin to invite you.",
			ZH: "%s 已在 Lantau 註冊。請聯絡該公司的超級管理員邀請你加入。",
		}.Format(domain))
	case errors.Is(err, table.ErrConditionFailed) && failedOp(err) == 1:
		return Registered{}, problem.E(op, problem.Conflict, problem.Code("email-taken"), err, i18n.Text{
			EN: "This e-mail address already has a Lantau account.",
			ZH: "此電郵地址已有 Lantau 帳戶。",
		})
	default:
		return Registered{}, storeErr(op, err)
	}

	url := s.PublicURL + "/v1/companies/confirm?token=" + secret
	if err := s.send(ctx, confirmationMail(c.Lang, email, company.ID, user.Name, company.Name, url, expires)); err != nil {
		// Without the mail nobody can confirm: undo, so a retry can register again.
		undo := []table.Op{
			{Delete: &domainItem.Key, Condition: table.IfVersion(1)},
			{Delete: &emailItem.Key, Condition: table.IfVersion(1)},
			{Delete: &companyOp.Put.Key, Condition: table.IfVersion(1)},
			{Delete: &userOp.Put.Key, Condition: table.IfVersion(1)},
			{Delete: &linkItem.Key, Condition: table.IfVersion(1)},
		}
		if uerr := s.Store.Transact(context.WithoutCancel(ctx), undo); uerr != nil {
			s.Log.ErrorContext(ctx, "registration not undone after a mail failure; it expires with its link", "tenant", company.ID, "error", uerr.Error())
		}
		return Registered{}, problem.E(op, problem.Unavailable, problem.Code("mail-unavailable"), err, i18n.Text{
			EN: "We could not send the confirmation mail. Please try again in a few minutes.",
			ZH: "未能發送確認電郵，請於數分鐘後再試。",
		})
	}
	s.publish(ctx, company.ID, user.ID, EventCompanyRegistered, map[string]any{
		"companyId": company.ID, "name": company.Name, "domain": domain, "dataRegion": company.DataRegion,
		"adminUserId": user.ID, "adminEmail": email, "ip": c.IP,
	})
	return Registered{
		CompanyID: company.ID, Name: company.Name, Domain: domain, DataRegion: company.DataRegion,
		Status: CompanyPending, ConfirmationSentTo: email, ConfirmBy: expires,
	}, nil
}

var errLinkInvalid = i18n.Text{
	EN: "This link is not valid: it has been used already, has expired, or was copied incompletely.",
	ZH: "此連結無效：可能已被使用、已過期，或未有完整複製。",
}

// Confirm activates the company of a confirmation link and makes its first
// admin a super admin. The link works once: of concurrent uses one succeeds.
func (s *Service) Confirm(ctx context.Context, secret string) (Company, error) {
	const op = "identity.Confirm"
	gone := func(cause any) error {
		return problem.E(op, problem.Gone, problem.Code("link-invalid"), errLinkInvalid, cause)
	}
	tenant, hash, ok := parseSecret(secret)
	if !ok {
		return Company{}, gone("malformed link token")
	}
	var l link
	lv, err := get(ctx, s.Store, linkKey(tenant, hash), &l)
	if errors.Is(err, table.ErrNotFound) {
		return Company{}, gone("unknown, used or expired link")
	} else if err != nil {
		return Company{}, storeErr(op, err)
	}
	if l.Purpose != linkConfirmCompany {
		return Company{}, gone("link of purpose " + l.Purpose)
	}
	company, err := s.loadCompany(ctx, tenant)
	if err != nil {
		return Company{}, storeErr(op, err)
	}
	user, err := s.loadUser(ctx, tenant, l.User)
	if err != nil {
		return Company{}, storeErr(op, err)
	}
	var dc domainClaim
	dv, err := get(ctx, s.Store, domainKey(company.Domain), &dc)
	if err != nil {
		return Company{}, storeErr(op, err)
	}
	var ec emailClaim
	ev, err := get(ctx, s.Store, emailKey(user.Email), &ec)
	if err != nil {
		return Company{}, storeErr(op, err)
	}
	if dc.Tenant != tenant || ec.Tenant != tenant || company.Status != CompanyPending || user.Status != UserPending {
		return Company{}, gone("registration no longer pending")
	}
	now := s.Now().UTC()
	company.Status, company.ConfirmedAt, company.SuperAdmins = CompanyActive, now, []string{user.ID}
	user.Status, user.Role = UserActive, RoleSuperAdmin
	dc.Status, dc.At = CompanyActive, now
	companyOp, err1 := companyPut(company, time.Time{}, table.IfVersion(company.version))
	userOp, err2 := userPut(tenant, user, time.Time{}, table.IfVersion(user.version))
	domainItem, err3 := item(domainKey(company.Domain), dc, dv+1, time.Time{})
	emailItem, err4 := item(emailKey(user.Email), ec, ev+1, time.Time{})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return Company{}, problem.E(op, problem.Internal, err)
	}
	lk := linkKey(tenant, hash)
	err = s.Store.Transact(ctx, []table.Op{
		{Delete: &lk, Condition: table.IfVersion(lv)},
		companyOp, userOp,
		{Put: &domainItem, Condition: table.IfVersion(dv)},
		{Put: &emailItem, Condition: table.IfVersion(ev)},
	})
	if errors.Is(err, table.ErrConditionFailed) {
		return Company{}, gone(err)
	} else if err != nil {
		return Company{}, storeErr(op, err)
	}
	company.version++
	s.publish(ctx, tenant, user.ID, EventCompanyConfirmed, map[string]any{
		"companyId": tenant, "domain": company.Domain, "dataRegion": company.DataRegion, "superAdmin": user.ID,
	})
	return company, nil
}
