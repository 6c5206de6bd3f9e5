// Package target is RD Station CRM v1 as a target system: the component
// "crm" ([crm]: the account, its token and rate budget). It adapts the
// client (rdstation/crm) to the engine: one bridge.Target per CRM entity,
// each knowing its natural key for adoption (organization: CNPJ custom
// field or exact name; contact: e-mail, else name within the organization;
// product: exact name; deal: exact name), the schema mapping validates
// payloads against (v1's standard fields and the account's custom fields),
// the won-deal side (WonDeals, an inbound.CRM), the account probe and the
// health check. classify translates the client's errors into the engine's
// classes (bridge/errors.go), for every error the package hands on.
package target
