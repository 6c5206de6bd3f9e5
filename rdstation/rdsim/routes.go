package rdsim

// routes registers every /api/v1 route. Unregistered ones (for example
// POST /deals/{id}/contacts) answer 404 RESOURCE_NOT_FOUND.
func (s *Sim) routes() {
	const v1 = "/api/v1"
	for _, r := range []struct {
		pattern string
		h       handler
	}{
		{"GET " + v1 + "/token/check", s.tokenCheck},
		{"GET " + v1 + "/users", s.listUsers},
		{"GET " + v1 + "/users/{id}", s.getUser},

		{"GET " + v1 + "/organizations", s.listOrganizations},
		{"POST " + v1 + "/organizations", s.createOrganization},
		{"GET " + v1 + "/organizations/{id}", s.getOrganization},
		{"PUT " + v1 + "/organizations/{id}", s.updateOrganization},
		{"GET " + v1 + "/organizations/{id}/contacts", s.listOrganizationContacts},

		{"GET " + v1 + "/contacts", s.listContacts},
		{"POST " + v1 + "/contacts", s.createContact},
		{"GET " + v1 + "/contacts/{id}", s.getContact},
		{"PUT " + v1 + "/contacts/{id}", s.updateContact},

		{"GET " + v1 + "/products", s.listProducts},
		{"POST " + v1 + "/products", s.createProduct},
		{"GET " + v1 + "/products/{id}", s.getProduct},
		{"PUT " + v1 + "/products/{id}", s.updateProduct},

		{"GET " + v1 + "/custom_fields", s.listCustomFields},
		{"POST " + v1 + "/custom_fields", s.createCustomField},
		{"GET " + v1 + "/custom_fields/{id}", s.getCustomField},
		{"PUT " + v1 + "/custom_fields/{id}", s.updateCustomField},
		{"DELETE " + v1 + "/custom_fields/{id}", s.deleteCustomField},

		{"GET " + v1 + "/deal_pipelines", s.listPipelines},
		{"POST " + v1 + "/deal_pipelines", s.savePipeline},
		{"GET " + v1 + "/deal_pipelines/{id}", s.getPipeline},
		{"PUT " + v1 + "/deal_pipelines/{id}", s.savePipeline},
		{"GET " + v1 + "/deal_stages", s.listStages},
		{"POST " + v1 + "/deal_stages", s.saveStage},
		{"GET " + v1 + "/deal_stages/{id}", s.getStage},
		{"PUT " + v1 + "/deal_stages/{id}", s.saveStage},

		{"GET " + v1 + "/deal_sources", s.listNamed(sourcesKind)},
		{"POST " + v1 + "/deal_sources", s.saveNamed(sourcesKind)},
		{"GET " + v1 + "/deal_sources/{id}", s.getNamed(sourcesKind)},
		{"PUT " + v1 + "/deal_sources/{id}", s.saveNamed(sourcesKind)},
		{"GET " + v1 + "/campaigns", s.listNamed(campaignsKind)},
		{"POST " + v1 + "/campaigns", s.saveNamed(campaignsKind)},
		{"GET " + v1 + "/campaigns/{id}", s.getNamed(campaignsKind)},
		{"PUT " + v1 + "/campaigns/{id}", s.saveNamed(campaignsKind)},
		{"GET " + v1 + "/deal_lost_reasons", s.listNamed(lostReasonsKind)},
		{"POST " + v1 + "/deal_lost_reasons", s.saveNamed(lostReasonsKind)},
		{"GET " + v1 + "/deal_lost_reasons/{id}", s.getNamed(lostReasonsKind)},
		{"PUT " + v1 + "/deal_lost_reasons/{id}", s.saveNamed(lostReasonsKind)},

		{"GET " + v1 + "/deals", s.listDeals},
		{"POST " + v1 + "/deals", s.createDeal},
		{"GET " + v1 + "/deals/{id}", s.getDeal},
		{"PUT " + v1 + "/deals/{id}", s.updateDeal},
		{"GET " + v1 + "/deals/{id}/contacts", s.listDealContacts},
		{"GET " + v1 + "/deals/{id}/deal_products", s.listDealProducts},
		{"POST " + v1 + "/deals/{id}/deal_products", s.createDealProduct},
		{"PUT " + v1 + "/deals/{id}/deal_products/{dp_id}", s.updateDealProduct},
		{"DELETE " + v1 + "/deals/{id}/deal_products/{dp_id}", s.deleteDealProduct},
		{"POST " + v1 + "/deals/{id}/deal_products/batch", s.batchCreateDealProducts},
		{"PATCH " + v1 + "/deals/{id}/deal_products/batch/update", s.batchUpdateDealProducts},
		{"DELETE " + v1 + "/deals/{id}/deal_products/batch/destroy", s.batchDestroyDealProducts},

		{"GET " + v1 + "/activities", s.listNotes},
		{"POST " + v1 + "/activities", s.createNote},
	} {
		s.handle(r.pattern, r.h)
	}
}
