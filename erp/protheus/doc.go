// Package protheus holds TOTVS Protheus knowledge: physical table names,
// field prefixes, control columns, the standard fields of the tables the
// bridge reads and builders of sqlerp.TableSpec for them, the default
// mappings of the entity streams, the order rules (types, status derived
// from SC5/SC6, C5_XCRMID) and the order staging tables' layout. The
// streams (streams/…), the ERP component (access), the fixture, the REST
// route simulator (restsim) and the stand-in ERP job (erpjob) live below.
package protheus
