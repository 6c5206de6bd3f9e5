package target

import (
	"context"
	"errors"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Account tells the engine which RD Station CRM account the token reaches
// and whether a record exists there (bridge.CheckAccount).
type Account struct{ C *crm.Client }

var _ bridge.AccountProbe = Account{}

// Account implements bridge.AccountProbe: the account's id from GET
// /token/check, else its name (the answer's shape is not documented).
func (a Account) Account(ctx context.Context) (string, error) {
	info, err := a.C.CheckToken(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case info.AccountID != "":
		return info.AccountID, nil
	case info.Account != "":
		return "named " + info.Account, nil
	}
	return "", errors.New("GET /token/check names no account")
}

// Exists implements bridge.AccountProbe with a GET of the record.
func (a Account) Exists(ctx context.Context, entity, id string) (bool, error) {
	var err error
	switch entity {
	case "organization":
		_, err = a.C.GetOrganization(ctx, id)
	case "contact":
		_, err = a.C.GetContact(ctx, id)
	case "product":
		_, err = a.C.GetProduct(ctx, id)
	case "deal":
		_, err = a.C.GetDeal(ctx, id)
	default:
		return false, fmt.Errorf("no way to look up a CRM %s", entity)
	}
	if errors.Is(err, crm.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
