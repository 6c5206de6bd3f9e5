package config

import (
	"testing"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
)

func TestOwnSchedule(t *testing.T) {
	c := defaults()
	components.Customers(c).Schedule = "@every 1m"
	components.Contacts(c).Schedule = "@every 2m"
	components.Orders(c).Schedule = "@every 3m"
	components.WonDeals(c).Schedule = "@every 4m"
	for stream, want := range map[string]string{
		"customers": "@every 1m", "contacts": "@every 2m", "customer_contacts": "@every 2m",
		"products": "", "orders": "@every 3m", "won_deals": "@every 4m", "unknown": "",
	} {
		if got := c.OwnSchedule(stream); got != want {
			t.Errorf("OwnSchedule(%q) = %q, want %q", stream, got, want)
		}
	}
}
