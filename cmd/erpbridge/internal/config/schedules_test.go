package config

import "testing"

func TestOwnSchedule(t *testing.T) {
	c := Default()
	c.Streams.Customers.Schedule = "@every 1m"
	c.Streams.Contacts.Schedule = "@every 2m"
	c.Streams.Orders.Schedule = "@every 3m"
	c.WonDeals.Schedule = "@every 4m"
	for stream, want := range map[string]string{
		"customers": "@every 1m", "contacts": "@every 2m", "customer_contacts": "@every 2m",
		"products": "", "orders": "@every 3m", "won_deals": "@every 4m", "unknown": "",
	} {
		if got := c.OwnSchedule(stream); got != want {
			t.Errorf("OwnSchedule(%q) = %q, want %q", stream, got, want)
		}
	}
}
