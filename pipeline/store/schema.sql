-- Core tables of the warehouse (main schema of the lake, so analysts query them unqualified).
-- Every table and column carries a COMMENT; README.md "Schema" repeats them (a test checks).
-- No primary keys or UNIQUE: DuckLake has no constraints. Uniqueness is guaranteed by
-- deduplication before insert and proven by the asset checks after it.

create table if not exists reports (
    report_key varchar not null,
    organization_name varchar not null,
    report_id varchar not null,
    contact_info varchar,
    contact_domain varchar,
    start_at timestamptz not null,
    end_at timestamptz not null,
    report_date date not null,
    received_at timestamptz,
    channel varchar not null,
    raw_sha256 varchar not null,
    part_index integer not null,
    content_sha256 varchar not null,
    policy_count integer not null,
    header_report_domain varchar,
    header_submitter varchar,
    message_id varchar,
    subject varchar,
    attachment_name varchar,
    conformance_flags varchar[] not null,
    parser_version varchar not null,
    dkim_result varchar,
    dkim_domain varchar,
    dkim_aligned boolean,
    dkim_key_tlsrpt boolean,
    trust varchar not null,
    batch_id varchar not null
);

create table if not exists policies (
    report_key varchar not null,
    policy_index integer not null,
    report_date date not null,
    policy_type varchar,
    policy_domain varchar,
    policy_domain_source varchar,
    policy_string_raw varchar[],
    policy_strings varchar[] not null,
    mx_host varchar[] not null,
    sts_mode varchar,
    sts_max_age bigint,
    sts_mx varchar[] not null,
    tlsa_records struct(usage integer, selector integer, matching_type integer, association_data varchar)[] not null,
    successful_session_count bigint,
    failed_session_count bigint,
    failure_detail_session_sum bigint not null,
    failure_detail_count integer not null,
    has_totals_mismatch boolean not null,
    batch_id varchar not null
);

create table if not exists failure_details (
    report_key varchar not null,
    policy_index integer not null,
    detail_index integer not null,
    report_date date not null,
    policy_domain varchar,
    result_type varchar,
    failed_session_count bigint,
    sending_mta_ip varchar,
    is_sending_mta_ip_valid boolean,
    sending_mta_network varchar,
    receiving_mx_hostname varchar,
    receiving_mx_helo varchar,
    receiving_ip varchar,
    is_receiving_ip_valid boolean,
    additional_information varchar,
    failure_reason_code varchar,
    batch_id varchar not null
);

create table if not exists deliveries (
    delivery_id varchar not null,
    batch_id varchar not null,
    ingested_at timestamptz not null,
    ingested_date date not null,
    received_at timestamptz,
    channel varchar not null,
    origin varchar not null,
    part_index integer not null,
    attachment_name varchar,
    message_id varchar,
    raw_sha256 varchar,
    raw_size bigint,
    raw_kind varchar,
    outcome varchar not null,
    reason_code varchar,
    detail varchar,
    report_key varchar,
    parser_version varchar not null
);

create table if not exists raw_objects (
    raw_sha256 varchar not null,
    pack_path varchar not null,
    byte_offset bigint not null,
    byte_size bigint not null,
    raw_kind varchar,
    batch_id varchar not null
);

-- Bookkeeping: which landing packs (batches) are in the tables.
create table if not exists ingest_batches (
    batch_id varchar not null,
    committed_at timestamptz not null,
    inputs integer not null,
    loaded integer not null,
    duplicates integer not null,
    quarantined integer not null
);

-- Which lake snapshot each model build committed (readers pin the newest passed one).
create table if not exists builds (
    snapshot_id bigint not null,
    built_at timestamptz not null,
    passed boolean not null
);

create table if not exists schema_info (
    version integer not null
);

-- Posture checks (`tlsrpt check`, the posture asset): what a domain published when we looked.
create table if not exists posture_checks (
    run_id varchar not null,
    checked_at timestamptz not null,
    domain varchar not null,
    check_name varchar not null,
    target varchar not null,
    verdict varchar not null,
    reason varchar not null,
    detail varchar not null,
    raw_answer varchar not null,
    facts varchar not null
);
