// Package wondeals is the won-deal flow's Protheus side, the component
// "won_deals": which CRM pipelines' won deals become orders, the directory
// of ERP counterparts (organizations and products by the identity map, else
// an organization by its CNPJ in SA1; owners by e-mail in SA3), and the
// order sink (the staging tables an ERP job consumes, or a REST order
// route), whose errors sinkError translates into the engine's classes. The
// flow itself, vendor-neutral, is bridge/inbound.
package wondeals
