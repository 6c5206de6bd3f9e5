package config

// OwnSchedule returns the schedule a stream overrides schedule.incremental
// with ("" when it follows schedule.incremental). customer_contacts follows
// the contacts stream's.
func (c *Config) OwnSchedule(stream string) string {
	switch stream {
	case "customers":
		return c.Streams.Customers.Schedule
	case "contacts", "customer_contacts":
		return c.Streams.Contacts.Schedule
	case "products":
		return c.Streams.Products.Schedule
	case "orders":
		return c.Streams.Orders.Schedule
	case "won_deals":
		return c.WonDeals.Schedule
	}
	return ""
}
