package rdsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// routes registers the Marketing API.
func (m *marketing) routes() {
	m.mux.HandleFunc("GET /auth/dialog", m.dialog)
	m.mux.HandleFunc("POST /auth/token", m.tokenGrant)
	m.mux.HandleFunc("POST /auth/revoke", m.revoke)

	m.mux.HandleFunc("GET /platform/contacts/fields", m.listFields)
	m.mux.HandleFunc("POST /platform/contacts", m.createContact)
	m.mux.HandleFunc("GET /platform/contacts/{id}", m.getContact)
	m.mux.HandleFunc("PATCH /platform/contacts/{id}", m.upsertContact)
	m.mux.HandleFunc("DELETE /platform/contacts/{id}", m.deleteContact)
	m.mux.HandleFunc("POST /platform/contacts/{id}/tag", m.addTags)
	m.mux.HandleFunc("GET /platform/contacts/{id}/funnels/{funnel}", m.getFunnel)
	m.mux.HandleFunc("PUT /platform/contacts/{id}/funnels/{funnel}", m.putFunnel)

	m.mux.HandleFunc("POST /platform/events", m.postEvent)
	m.mux.HandleFunc("POST /platform/events/batch", m.postBatch)
}

// dialog is the authorization page: the simulated admin always allows,
// and the browser is sent to redirect_uri with a code and the state.
func (m *marketing) dialog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != m.opts.ClientID {
		writeJSON(w, http.StatusBadRequest, mktError("INVALID_CLIENT", "Unknown client_id"))
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || redirect.Host == "" {
		writeJSON(w, http.StatusBadRequest, mktError("INVALID_REDIRECT_URI", "redirect_uri must be an absolute URL"))
		return
	}
	m.mu.Lock()
	code := m.token("code-")
	m.codes[code] = &mktCode{clientID: q.Get("client_id"), redirectURI: redirect.String(), expires: m.clock.Now().Add(MarketingCodeLifetime)}
	m.mu.Unlock()
	rq := redirect.Query()
	rq.Set("code", code)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	redirect.RawQuery = rq.Encode()
	w.Header().Set("Location", redirect.String())
	w.WriteHeader(http.StatusFound)
}

// tokenGrant exchanges a code (?token_by=code) or a refresh token for
// tokens. The refresh takes JSON or form data (grant_type=refresh_token).
func (m *marketing) tokenGrant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Code         string `json:"code"`
		RefreshToken string `json:"refresh_token"`
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, mktError("BAD_REQUEST", err.Error()))
			return
		}
		in.ClientID, in.ClientSecret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		in.Code, in.RefreshToken = r.PostForm.Get("code"), r.PostForm.Get("refresh_token")
	case strings.HasPrefix(ct, "application/json"):
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, mktError("BAD_REQUEST", "The body is not valid JSON"))
			return
		}
	default:
		writeJSON(w, http.StatusUnsupportedMediaType, mktError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"))
		return
	}
	if in.ClientID != m.opts.ClientID || in.ClientSecret != m.opts.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, mktError("ACCESS_DENIED", "Wrong credentials provided."))
		return
	}
	rotate := m.Switches().RefreshRotation
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	var refresh string
	switch {
	case r.URL.Query().Get("token_by") == "code" || in.Code != "":
		c := m.codes[in.Code]
		if c == nil || c.used || !now.Before(c.expires) || c.clientID != in.ClientID {
			writeJSON(w, http.StatusUnauthorized, mktError("EXPIRED_CODE_GRANT", "The authorization code grant has expired."))
			return
		}
		c.used = true
		refresh = m.token("refresh-")
		m.refresh[refresh] = true
	case in.RefreshToken != "":
		if !m.refresh[in.RefreshToken] {
			writeJSON(w, http.StatusUnauthorized, mktError("INVALID_REFRESH_TOKEN", "The provided refresh token is invalid or was revoked."))
			return
		}
		refresh = in.RefreshToken
		if rotate {
			m.refresh[in.RefreshToken] = false
			refresh = m.token("refresh-")
			m.refresh[refresh] = true
		}
	default:
		writeJSON(w, http.StatusBadRequest, mktPathErrors(mktPathError("CANNOT_BE_NULL", "code or refresh_token is required", "$.code")))
		return
	}
	access := m.token("access-")
	m.access[access] = now.Add(m.opts.AccessTokenLifetime)
	writeJSON(w, http.StatusOK, obj{"access_token": access, "expires_in": int(m.opts.AccessTokenLifetime.Seconds()), "refresh_token": refresh})
}

// revoke retires an access or refresh token (form token, token_type_hint).
func (m *marketing) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, mktError("BAD_REQUEST", err.Error()))
		return
	}
	tok := r.PostForm.Get("token")
	m.mu.Lock()
	delete(m.access, tok)
	if _, ok := m.refresh[tok]; ok {
		m.refresh[tok] = false
	}
	m.mu.Unlock()
	writeJSON(w, http.StatusOK, obj{})
}
