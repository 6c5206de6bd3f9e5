package resterp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/erpbridge/erpbridge/bridge/retry"
	"github.com/erpbridge/erpbridge/erp"
)

// DefaultOrderPath is the order route's path when OrderRouteSpec.Path is empty.
const DefaultOrderPath = "/orders"

// OrderRouteSpec configures the ERP's order route: POST BaseURL+Path with
// one order as JSON (the contract of docs/protheus.md, "The order route"),
// idempotent on the deal id.
type OrderRouteSpec struct {
	// BaseURL is scheme://host[:port][/prefix], e.g. http://erp:8080/rest.
	// It must not carry credentials: use Auth.
	BaseURL string
	// Path is the order route under BaseURL (DefaultOrderPath if empty).
	Path string
	Auth Auth
	// Timeout bounds each HTTP request (DefaultTimeout if 0).
	Timeout time.Duration
	// Retries is how many times a POST is sent again after a 5xx, a 429, a
	// refused connection or a lost answer (DefaultRetries if 0, none if
	// negative); Backoff the first wait, doubled each time (DefaultBackoff
	// if 0). Re-sending is safe: the route answers a known deal with its
	// existing order.
	Retries int
	Backoff time.Duration
	// StatusPath, optional, is a GET route template under BaseURL with a
	// {dealId} placeholder answering a deal's order as 200
	// {"orderNumber":"…"} or 404 when it has none, e.g. /orders/deal/{dealId}.
	// Empty: Status always reports false.
	StatusPath string
}

// OrderSink is an erp.OrderSink posting won deals to an ERP order route
// (a custom AppServer route running MATA410 synchronously).
//
// Answers: 201/200 with orderNumber → OrderDone; 400/422 → OrderRejected
// with the body's detailedMessage (else errorMessage); 401/403 → an error
// wrapping ErrUnauthorized, never retried; 5xx, 429, a refused connection,
// a timeout or a dropped connection → sent again up to Retries times. When
// the last try may have reached the ERP (a 5xx, a timeout or a connection
// lost after the request was written) the error wraps
// erp.ErrOrderOutcomeUnknown. Credentials never appear in errors.
type OrderSink struct {
	spec OrderRouteSpec
	// c sends the status GETs and redacts what the ERP echoes back.
	c *client
}

var _ erp.OrderSink = (*OrderSink)(nil)

// NewOrderSink validates spec and fills in its defaults.
func NewOrderSink(spec OrderRouteSpec) (*OrderSink, error) {
	if spec.Path == "" {
		spec.Path = DefaultOrderPath
	}
	if spec.StatusPath != "" && !strings.Contains(spec.StatusPath, "{dealId}") {
		return nil, errors.New("validating order route: status path: want a {dealId} placeholder")
	}
	// The read routes' checks (URL, credentials, auth) and defaults apply.
	rs, err := RouteSpec{Name: "orders", BaseURL: spec.BaseURL, Path: spec.Path, KeyFields: []string{"dealId"},
		Auth: spec.Auth, Timeout: spec.Timeout, Retries: spec.Retries, Backoff: spec.Backoff}.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("validating order route: %w", err)
	}
	spec.BaseURL, spec.Path, spec.Timeout, spec.Retries, spec.Backoff = rs.BaseURL, rs.Path, rs.Timeout, rs.Retries, rs.Backoff
	if spec.StatusPath != "" && !strings.HasPrefix(spec.StatusPath, "/") {
		spec.StatusPath = "/" + spec.StatusPath
	}
	return &OrderSink{spec: spec, c: &client{spec: rs, http: &http.Client{}}}, nil
}

// orderRequest is the body of the POST.
type orderRequest struct {
	DealID       string             `json:"dealId"`
	Customer     string             `json:"customer"`
	Store        string             `json:"store"`
	PaymentTerms string             `json:"paymentTerms,omitempty"`
	Seller       string             `json:"seller,omitempty"`
	PriceTable   string             `json:"priceTable,omitempty"`
	OrderType    string             `json:"orderType,omitempty"`
	Message      string             `json:"message,omitempty"`
	Items        []orderRequestItem `json:"items"`
}

// orderRequestItem is one item; decimals travel as exact decimal strings.
type orderRequestItem struct {
	Product   string `json:"product"`
	Quantity  string `json:"quantity"`
	UnitPrice string `json:"unitPrice,omitempty"`
	TES       string `json:"tes,omitempty"`
	Operation string `json:"operation,omitempty"`
}

// orderAnswer is a 200/201 body.
type orderAnswer struct {
	OrderNumber string `json:"orderNumber"`
	DealID      string `json:"dealId"`
}

// errorAnswer is the Protheus REST error body.
type errorAnswer struct {
	ErrorMessage    string `json:"errorMessage"`
	DetailedMessage string `json:"detailedMessage"`
}

func newOrderRequest(o erp.Order) orderRequest {
	trim := func(s string) string { return strings.TrimRight(s, " ") }
	req := orderRequest{
		DealID: trim(o.DealID), Customer: trim(o.Customer), Store: trim(o.Store), PaymentTerms: trim(o.PaymentTerms),
		Seller: trim(o.Seller), PriceTable: trim(o.PriceTable), OrderType: trim(o.OrderType), Message: trim(o.Message),
		Items: make([]orderRequestItem, 0, len(o.Items)),
	}
	for _, it := range o.Items {
		ri := orderRequestItem{Product: trim(it.Product), Quantity: it.Quantity.String(), TES: trim(it.TES), Operation: trim(it.Operation)}
		if it.UnitPrice != nil {
			ri.UnitPrice = it.UnitPrice.String()
		}
		req.Items = append(req.Items, ri)
	}
	return req
}

// Submit implements erp.OrderSink.
func (s *OrderSink) Submit(ctx context.Context, o erp.Order) (erp.OrderResult, error) {
	req := newOrderRequest(o)
	if req.DealID == "" {
		return erp.OrderResult{}, errors.New("submitting order: no deal id")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return erp.OrderResult{}, fmt.Errorf("submitting order of deal %s: encoding: %w", req.DealID, err)
	}
	res, err := retry.Do(ctx, s.c.spec.retryPolicy(), func(err error) bool {
		var ae *attemptError
		return errors.As(err, &ae) && ae.retry
	}, func() (erp.OrderResult, error) { return s.post(ctx, req.DealID, body) })
	if err != nil {
		return erp.OrderResult{}, fmt.Errorf("submitting order of deal %s: %w", req.DealID, err)
	}
	return res, nil
}

// attemptError is a failed POST: retry says whether sending it again may
// help. It wraps erp.ErrOrderOutcomeUnknown when the request may have
// reached the ERP.
type attemptError struct {
	retry bool
	err   error
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// post sends the order once.
func (s *OrderSink) post(ctx context.Context, dealID string, body []byte) (erp.OrderResult, error) {
	reqErr := func(status int, text string, err error) *RequestError {
		return &RequestError{Method: http.MethodPost, Path: s.spec.Path, Status: status, Body: s.c.redact(text), Err: err}
	}
	actx, cancel := context.WithTimeout(ctx, s.spec.Timeout)
	defer cancel()
	var wrote atomic.Bool // set by the transport's goroutine
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(actx, http.MethodPost, s.spec.BaseURL+s.spec.Path, bytes.NewReader(body))
	if err != nil {
		return erp.OrderResult{}, reqErr(0, "", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	s.spec.Auth.apply(req)
	resp, err := s.c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL; ours names the path
		}
		if !wrote.Load() {
			return erp.OrderResult{}, &attemptError{retry: true, err: reqErr(0, "", fmt.Errorf("not sent: %w", err))}
		}
		return erp.OrderResult{}, &attemptError{retry: true, err: fmt.Errorf("%w: %w", erp.ErrOrderOutcomeUnknown, reqErr(0, "", err))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The ERP answered but the answer was cut: it may say "created".
		return erp.OrderResult{}, &attemptError{retry: true,
			err: fmt.Errorf("%w: %w", erp.ErrOrderOutcomeUnknown, reqErr(resp.StatusCode, "", fmt.Errorf("reading body: %w", err)))}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK || code == http.StatusCreated:
		var a orderAnswer
		if err := json.Unmarshal(raw, &a); err != nil || strings.TrimSpace(a.OrderNumber) == "" {
			return erp.OrderResult{}, fmt.Errorf("%w: %w", erp.ErrOrderOutcomeUnknown, reqErr(code, snippet(raw), errors.New("answer without an orderNumber")))
		}
		if a.DealID != "" && strings.TrimRight(a.DealID, " ") != dealID {
			return erp.OrderResult{}, reqErr(code, snippet(raw), fmt.Errorf("answer for deal %q", a.DealID))
		}
		return erp.OrderResult{State: erp.OrderDone, Number: strings.TrimSpace(a.OrderNumber)}, nil
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		var a errorAnswer
		_ = json.Unmarshal(raw, &a)
		reason := strings.TrimSpace(a.DetailedMessage)
		if reason == "" {
			reason = strings.TrimSpace(a.ErrorMessage)
		}
		if reason == "" {
			reason = snippet(raw)
		}
		return erp.OrderResult{State: erp.OrderRejected, Error: s.c.redact(reason)}, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return erp.OrderResult{}, reqErr(code, snippet(raw), ErrUnauthorized)
	case code == http.StatusNotFound:
		return erp.OrderResult{}, reqErr(code, snippet(raw), ErrNotFound)
	case code == http.StatusTooManyRequests:
		return erp.OrderResult{}, &attemptError{retry: true, err: reqErr(code, snippet(raw), nil)}
	case code >= 500:
		// A route may fail after MATA410 committed (docs/protheus.md).
		return erp.OrderResult{}, &attemptError{retry: true, err: fmt.Errorf("%w: %w", erp.ErrOrderOutcomeUnknown, reqErr(code, snippet(raw), nil))}
	}
	return erp.OrderResult{}, reqErr(resp.StatusCode, snippet(raw), nil)
}

// Status implements erp.OrderSink with the StatusPath route: 200 with an
// orderNumber is OrderDone, 404 is nothing. A rejection is not kept by the
// ERP, so Status never reports OrderRejected.
func (s *OrderSink) Status(ctx context.Context, dealID string) (erp.OrderResult, bool, error) {
	dealID = strings.TrimRight(dealID, " ")
	if s.spec.StatusPath == "" || dealID == "" {
		return erp.OrderResult{}, false, nil
	}
	target := strings.ReplaceAll(s.spec.StatusPath, "{dealId}", url.PathEscape(dealID))
	body, _, err := s.c.get(ctx, target, url.Values{})
	if errors.Is(err, ErrNotFound) {
		return erp.OrderResult{}, false, nil
	}
	if err != nil {
		return erp.OrderResult{}, false, fmt.Errorf("reading order of deal %s: %w", dealID, err)
	}
	obj, _ := body.(map[string]any)
	num, _ := obj["orderNumber"].(string)
	if num = strings.TrimSpace(num); num == "" {
		return erp.OrderResult{}, false, fmt.Errorf("reading order of deal %s: GET %s: answer without an orderNumber", dealID, target)
	}
	return erp.OrderResult{State: erp.OrderDone, Number: num}, true, nil
}
