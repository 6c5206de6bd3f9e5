package store

import (
	"context"
	"fmt"
)

// What a target sent: beside the identity's fingerprint (a hash of the
// whole payload), a target may keep per CRM record a short text saying what
// it last sent in parts (a deal's product lines and their CRM ids, its
// outcome, its note), so an update writes only the parts that changed and
// never reads the CRM to compare. It lives in meta under "sent/ENTITY/ID";
// ForgetFingerprints and ForgetCRM forget it with the fingerprints.

func sentKey(entity, crmID string) string { return "sent/" + entity + "/" + crmID }

// sentRange bounds every key of one entity's sent texts (meta keys are
// compared as bytes; '0' follows '/').
func sentRange(entity string) (from, to string) {
	return "sent/" + entity + "/", "sent/" + entity + "0"
}

// Sent returns what the target of entity recorded it last sent to the CRM
// record crmID; false when nothing is recorded (never, or forgotten).
func (s *Store) Sent(ctx context.Context, entity, crmID string) (string, bool, error) {
	v, ok, err := s.Meta(ctx, sentKey(entity, crmID))
	if err != nil {
		return "", false, fmt.Errorf("reading what was sent to %s %s: %w", entity, crmID, err)
	}
	return v, ok, nil
}

// SetSent records what was sent to the CRM record crmID of entity; an
// empty state forgets it (before a write whose outcome may not be known).
func (s *Store) SetSent(ctx context.Context, entity, crmID, state string) error {
	key := sentKey(entity, crmID)
	err := s.Update(ctx, func(tx *Tx) error {
		if state == "" {
			return tx.DeleteMeta(key)
		}
		return tx.SetMeta(key, state)
	})
	if err != nil {
		return fmt.Errorf("recording what was sent to %s %s: %w", entity, crmID, err)
	}
	return nil
}

// forgetSent forgets what was sent to every record of entity.
func (t *Tx) forgetSent(entity string) error {
	from, to := sentRange(entity)
	if _, err := t.exec(`DELETE FROM meta WHERE key >= ? AND key < ?`, from, to); err != nil {
		return fmt.Errorf("forgetting what was sent to %s records: %w", entity, err)
	}
	return nil
}
