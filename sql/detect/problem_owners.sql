-- grain: one row per policy domain that is an MX host of other domains, with the domains it serves
-- reads: intermediate.domain_mx, marts.daily_domain_sessions
-- DANE reports may be filed under an MX host as policy domain (RFC 8460 lets a sender report per
-- MX host): their problems belong to the domain(s) that MX serves, beside that domain's own
-- reports.
select
    mx_name as policy_domain,
    min(policy_domain) as owner_domain,
    list_sort(list(distinct policy_domain)) as owner_domains
from intermediate.domain_mx
where
    mx_name <> policy_domain and policy_domain <> '(unknown)'
    and mx_name in (select distinct m.policy_domain from marts.daily_domain_sessions as m)
group by mx_name
