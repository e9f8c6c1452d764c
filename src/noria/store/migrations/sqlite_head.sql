CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE runs (
	id VARCHAR(32) NOT NULL, 
	name TEXT NOT NULL, 
	pipeline TEXT, 
	kind VARCHAR(16) NOT NULL, 
	parent_id VARCHAR(32), 
	status VARCHAR(16) NOT NULL, 
	started_at FLOAT NOT NULL, 
	ended_at FLOAT, 
	error TEXT, 
	pid INTEGER, 
	host TEXT, 
	owner TEXT, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_runs_started_at ON runs (started_at);
CREATE INDEX ix_runs_parent_id ON runs (parent_id);
CREATE TABLE step_runs (
	id VARCHAR(32) NOT NULL, 
	run_id VARCHAR(32) NOT NULL, 
	step TEXT NOT NULL, 
	fingerprint VARCHAR(32), 
	status VARCHAR(16) NOT NULL, 
	started_at FLOAT, 
	ended_at FLOAT, 
	duration FLOAT, 
	attempts INTEGER NOT NULL, 
	error TEXT, 
	output_artifact VARCHAR(32), 
	cached_from VARCHAR(32), 
	PRIMARY KEY (id)
);
CREATE INDEX ix_step_runs_run_id ON step_runs (run_id);
CREATE TABLE artifacts (
	id VARCHAR(32) NOT NULL, 
	materializer VARCHAR(32) NOT NULL, 
	type_name TEXT NOT NULL, 
	size INTEGER NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE lineage (
	step_run_id VARCHAR(32) NOT NULL, 
	direction VARCHAR(3) NOT NULL, 
	name TEXT NOT NULL, 
	artifact_id VARCHAR(32) NOT NULL, 
	PRIMARY KEY (step_run_id, direction, name)
);
CREATE INDEX ix_lineage_artifact_id ON lineage (artifact_id);
CREATE TABLE cache (
	fingerprint VARCHAR(32) NOT NULL, 
	step TEXT NOT NULL, 
	artifact_id VARCHAR(32) NOT NULL, 
	step_run_id VARCHAR(32) NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (fingerprint)
);
CREATE TABLE params (
	run_id VARCHAR(32) NOT NULL, 
	"key" TEXT NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (run_id, "key")
);
CREATE TABLE metrics (
	id INTEGER NOT NULL, 
	run_id VARCHAR(32) NOT NULL, 
	"key" TEXT NOT NULL, 
	value FLOAT NOT NULL, 
	step INTEGER NOT NULL, 
	timestamp FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_metrics_run_key ON metrics (run_id, "key");
CREATE TABLE tags (
	run_id VARCHAR(32) NOT NULL, 
	"key" TEXT NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (run_id, "key")
);
CREATE TABLE model_versions (
	name TEXT NOT NULL, 
	version INTEGER NOT NULL, 
	artifact_id VARCHAR(32) NOT NULL, 
	run_id VARCHAR(32), 
	signature TEXT NOT NULL, 
	metrics TEXT NOT NULL, 
	params TEXT NOT NULL, 
	description TEXT, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (name, version)
);
CREATE TABLE aliases (
	name TEXT NOT NULL, 
	alias TEXT NOT NULL, 
	version INTEGER NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (name, alias)
);
CREATE TABLE audit_events (
	id INTEGER NOT NULL, 
	time FLOAT NOT NULL, 
	actor TEXT NOT NULL, 
	action TEXT NOT NULL, 
	object TEXT NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_audit_object ON audit_events (object);
CREATE TABLE file_hashes (
	path TEXT NOT NULL, 
	size INTEGER NOT NULL, 
	mtime_ns INTEGER NOT NULL, 
	hash VARCHAR(32) NOT NULL, 
	PRIMARY KEY (path)
);
CREATE TABLE monitor_windows (
	id INTEGER NOT NULL, 
	model TEXT NOT NULL, 
	created_at FLOAT NOT NULL, 
	first_time FLOAT, 
	last_time FLOAT, 
	rows INTEGER NOT NULL, 
	versions TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	drifted TEXT NOT NULL, 
	report_artifact VARCHAR(32) NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_monitor_windows_model ON monitor_windows (model);
CREATE TABLE monitor_segments (
	model TEXT NOT NULL, 
	segment TEXT NOT NULL, 
	window_id INTEGER NOT NULL, 
	rows INTEGER NOT NULL, 
	PRIMARY KEY (model, segment)
);
CREATE TABLE leases (
	name TEXT NOT NULL, 
	owner TEXT NOT NULL, 
	acquired_at FLOAT NOT NULL, 
	expires_at FLOAT NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO alembic_version VALUES ('0003');
