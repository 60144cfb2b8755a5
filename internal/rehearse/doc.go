// Package rehearse reads the reports the shutdown audit keeps (drift check
// --format json, one a shutdown: services.drift.auditOnShutdown) and weighs
// them against the model of the machine now (audit.Model) and what drift
// suggest makes of it: per path, in how many of the last boots a wipe
// would have lost it, whether it changed between boots (state) or came
// back identical, and whether it is declared, ignored or suggested now;
// then the verdict (Verdict's rules) and the next step.
package rehearse
