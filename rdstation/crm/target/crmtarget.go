package target

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// classify translates the RD Station CRM client's errors into the engine's
// classes (bridge/errors.go): the one place that does, for every error
// this package hands to the engine. A read that failed on the server
// after its retries (crm.ErrServer) or a cancelled request has no class:
// the engine retries it as a failure.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, crm.ErrRateLimited):
		return fmt.Errorf("%w: %w", bridge.ErrRateLimited, err)
	case errors.Is(err, crm.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %w", bridge.ErrOutcomeUnknown, err)
	case errors.Is(err, crm.ErrValidation), errors.Is(err, crm.ErrBadRequest), errors.Is(err, crm.ErrTooLarge):
		return fmt.Errorf("%w: %w", bridge.ErrRejected, err)
	case errors.Is(err, crm.ErrUnauthorized), errors.Is(err, crm.ErrForbidden):
		return fmt.Errorf("%w: %w", bridge.ErrFatal, err)
	case errors.Is(err, crm.ErrNotFound):
		return fmt.Errorf("%w: %w", bridge.ErrGone, err)
	case errors.Is(err, crm.ErrListingCapped):
		return fmt.Errorf("%w: %w", bridge.ErrListingCapped, err)
	}
	return err
}

// decode turns a payload into the client's input struct through JSON: the
// payload's keys are the CRM's own field names.
func decode(p bridge.Payload, into any) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding payload: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("%w: payload does not fit the CRM's fields: %v", bridge.ErrRejected, err)
	}
	return nil
}

// customValue returns the value of custom field id under key in the
// payload, as text.
func customValue(p bridge.Payload, key, id string) string {
	list, _ := p[key].([]any)
	for _, it := range list {
		m, _ := it.(map[string]any)
		if m == nil || fmt.Sprint(m["custom_field_id"]) != id {
			continue
		}
		if s, ok := m["value"].(string); ok {
			return s
		}
	}
	return ""
}

// text returns p[key] as a trimmed string.
func text(p bridge.Payload, key string) string {
	s, _ := p[key].(string)
	return strings.TrimSpace(s)
}

// pick returns the entries of p under keys that p has, as a payload: what
// a target's KeysOf returns.
func pick(p bridge.Payload, keys ...string) bridge.Payload {
	out := bridge.Payload{}
	for _, k := range keys {
		if v, ok := p[k]; ok && v != nil {
			out[k] = v
		}
	}
	return out
}
