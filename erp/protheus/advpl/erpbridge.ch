// erpbridge.ch: included by every ERP-side source erpbridge ships (this folder).
//
// ERPBRIDGE_VERSION is the version of these sources, and this line is its one
// home: the order route answers it (GET .../orders/version, header
// X-Erpbridge-Version), the staging job logs it, and erpbridge reads this file
// when it is built (package advpl) to compare what the route answers with what
// it ships (`erpbridge check` warns on a mismatch: compile the sources again).
// Change it with every change to a source of this folder.
#define ERPBRIDGE_VERSION "1.0.0"
