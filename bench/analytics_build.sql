-- Builds the analytics benchmark data set directly in PostgreSQL, set-based. Run by bench/analytics.py,
-- which first creates the temporary table bench_params (one row: customers, pos_orders, partner_orders,
-- sale_orders, company_id, currency_id, session_id, config_id, user_id, country_id, partner_base,
-- pos_base, sale_base, horizon_days, today, seed) in the same session, and executes this file one
-- "-- step:" block at a time (each block is timed and printed). Plain SQL: no client-side parameters.
--
-- The data set (deterministic for a given seed and size; the session runs without parallel workers):
--   * N customers (res_partner, all NOT NULL columns filled): 10 % never buy, 40 % rare (1-2 orders),
--     35 % occasional, 12 % regular, 3 % frequent; each has an activity window inside the last
--     ~3 years (regulars may have stopped long ago: churn) and a personal spend level (log-normal).
--     ~3 % of the buyers are businesses; they also get the sales orders. Half the customers have a
--     responsible staff member (user_id: the administrator), who gets the churn-warning activities.
--   * pos_orders paid POS orders in ONE open session, in date order (ids grow with date_order as in a
--     real shop); ~5 % are anonymous walk-ins (partner_id NULL), ~2 % are refunds (negative totals).
--   * sale_orders confirmed sales orders (state 'sale') of the business customers.
-- Secondary indexes and unique constraints of the three tables are dropped before the inserts and
-- rebuilt after them (bulk index builds are much faster than 10 million index insertions); foreign keys
-- are not checked during the load (session_replication_role = replica: the data is consistent by
-- construction).

-- step: drop secondary indexes
-- Saved in bench_saved_index and rebuilt by the last step with their exact definitions.
CREATE TEMP TABLE bench_saved_index AS
SELECT
    t.relname AS table_name,
    i.relname AS index_name,
    pg_get_indexdef(i.oid) AS index_def,
    con.conname AS constraint_name,
    pg_get_constraintdef(con.oid) AS constraint_def
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
LEFT JOIN pg_constraint AS con ON con.conindid = i.oid AND con.conrelid = t.oid
WHERE t.relnamespace = 'public'::regnamespace
    AND t.relname IN ('res_partner', 'pos_order', 'sale_order')
    AND NOT x.indisprimary;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM bench_saved_index LOOP
        IF r.constraint_name IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', r.table_name, r.constraint_name);
        ELSE
            EXECUTE format('DROP INDEX %I', r.index_name);
        END IF;
    END LOOP;
END
$$;

-- step: customers
SELECT setseed((SELECT seed FROM bench_params));
CREATE TEMP TABLE bench_customer AS
WITH drawn AS (
    SELECT
        g AS k,
        random() AS u_seg,
        sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z_weight,
        random() AS u_len,
        random() AS u_start,
        random() AS u_company,
        sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z_spend
    FROM bench_params AS p, generate_series(1, p.customers) AS g
), segmented AS (
    SELECT
        *,
        CASE
            WHEN u_seg < 0.10 THEN 'none'
            WHEN u_seg < 0.50 THEN 'rare'
            WHEN u_seg < 0.85 THEN 'occasional'
            WHEN u_seg < 0.97 THEN 'regular'
            ELSE 'frequent'
        END AS segment
    FROM drawn
)
SELECT
    s.k,
    s.segment,
    (s.segment <> 'none' AND s.u_company < 0.03) AS is_company,
    (CASE s.segment
        WHEN 'rare' THEN 1 WHEN 'occasional' THEN 6 WHEN 'regular' THEN 30 WHEN 'frequent' THEN 120 ELSE 0
    END) * exp(0.6 * s.z_weight - 0.18) AS weight,  -- log-normal spread around the segment (mean ~1)
    -- activity window in days inside the horizon: life length, then where it starts
    greatest(1, p.horizon_days * CASE s.segment
        WHEN 'rare' THEN 0.3 * s.u_len
        WHEN 'occasional' THEN 0.2 + 0.8 * s.u_len
        ELSE 0.5 + 0.5 * s.u_len
    END) AS life_days,
    s.u_start,
    ln(75) + 0.5 * s.z_spend + CASE WHEN s.segment <> 'none' AND s.u_company < 0.03 THEN ln(5) ELSE 0 END AS mu
FROM segmented AS s, bench_params AS p;
ALTER TABLE bench_customer ADD PRIMARY KEY (k);

-- step: order counts per customer
-- Every buyer gets one order, the rest are shared out by weight (largest remainder), so that the
-- customers' orders add up to exactly partner_orders.
CREATE TEMP TABLE bench_count AS
WITH buyers AS (
    SELECT k, weight, row_number() OVER (ORDER BY k) AS buyer_rank FROM bench_customer WHERE weight > 0
), totals AS (
    SELECT sum(weight) AS weight_total, count(*) AS buyer_count FROM buyers
), shares AS (
    SELECT
        b.k,
        b.buyer_rank,
        p.partner_orders,
        greatest(p.partner_orders - t.buyer_count, 0) AS extra,
        greatest(p.partner_orders - t.buyer_count, 0) * b.weight / t.weight_total AS share
    FROM buyers AS b, totals AS t, bench_params AS p
), ranked AS (
    SELECT
        *,
        floor(share)::int AS base,
        row_number() OVER (ORDER BY share - floor(share) DESC, k) AS remainder_rank,
        sum(floor(share)::int) OVER () AS base_total
    FROM shares
)
SELECT
    k,
    (CASE WHEN buyer_rank <= partner_orders THEN 1 ELSE 0 END)
    + base
    + (CASE WHEN remainder_rank <= extra - base_total THEN 1 ELSE 0 END) AS n
FROM ranked;

-- step: res_partner (customers)
INSERT INTO res_partner (
    id, name, complete_name, company_id, type, active, is_company, partner_share, commercial_partner_id,
    autopost_bills, lang, tz, country_id, city, mobile, phone, email, birthday, user_id, customer_rank,
    supplier_rank, color, employee, create_date, write_date, create_uid, write_uid
)
SELECT
    p.partner_base + c.k,
    x.name,
    x.name,
    p.company_id,
    'contact',
    TRUE,
    c.is_company,
    TRUE,
    p.partner_base + c.k,
    'ask',
    'en_US',
    'Asia/Shanghai',
    p.country_id,
    (ARRAY['杭州', '上海', '苏州', '宁波', '绍兴'])[1 + c.k % 5],
    CASE WHEN c.is_company THEN NULL ELSE '1' || (30 + c.k % 60)::text || lpad(((c.k::bigint * 7919) % 100000000)::text, 8, '0') END,
    CASE WHEN c.is_company THEN '0571-' || lpad(((c.k::bigint * 104729) % 100000000)::text, 8, '0') END,
    CASE WHEN c.k % 10 < 3 THEN 'customer' || c.k || '@example.com' END,
    CASE WHEN NOT c.is_company AND random() < 0.6 THEN date '1955-01-01' + floor(random() * 18000)::int END,
    CASE WHEN c.k % 2 = 0 THEN p.user_id END,  -- half the customers have a responsible staff member
    CASE WHEN c.is_company THEN 1 ELSE 0 END,
    0,
    0,
    FALSE,
    x.created,
    x.created,
    p.user_id,
    p.user_id
FROM bench_customer AS c
CROSS JOIN bench_params AS p
CROSS JOIN LATERAL (
    SELECT
        (ARRAY['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭',
            '何', '高', '林', '罗'])[1 + floor(random() * 20)::int]
        || (ARRAY['晓', '丽', '伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟',
            '涛', '明', '超', '秀', '霞', '平', '刚', '桂', '英', '华', '玉', '萍', '红', '燕', '文'])[
            1 + floor(random() * 30)::int]
        || CASE WHEN random() < 0.6 THEN (ARRAY['花', '梅', '兰', '菊', '琴', '云', '雪', '月', '春', '秋'])[
            1 + floor(random() * 10)::int] ELSE '' END
        || CASE WHEN c.is_company THEN '贸易有限公司' ELSE '' END AS name,
        -- registered a little before the first order
        (p.today - p.horizon_days)::timestamp
        + make_interval(days => floor(c.u_start * (p.horizon_days - c.life_days))::int)
        - make_interval(days => floor(random() * 30)::int) AS created
) AS x
ORDER BY c.k;

-- step: pos_order (paid, in date order)
INSERT INTO pos_order (
    id, name, pos_reference, uuid, session_id, config_id, company_id, user_id, partner_id, date_order,
    state, sequence_number, amount_tax, amount_total, amount_paid, amount_return, currency_rate,
    to_invoice, is_tipped, tip_amount, has_deleted_line, nb_print, create_date, write_date, create_uid,
    write_uid
)
WITH drawn AS (
    -- the customers' orders: uniform inside each customer's activity window
    SELECT
        p.partner_base + c.k AS partner_id,
        floor(c.u_start * (p.horizon_days - c.life_days) + random() * c.life_days)::int AS day,
        c.mu + 0.45 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS log_amount
    FROM bench_count AS n
    JOIN bench_customer AS c ON c.k = n.k
    CROSS JOIN bench_params AS p
    CROSS JOIN LATERAL generate_series(1, n.n) AS s
    UNION ALL
    -- anonymous walk-ins
    SELECT
        NULL,
        floor(random() * p.horizon_days)::int,
        ln(60) + 0.6 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())
    FROM bench_params AS p, generate_series(1, p.pos_orders - p.partner_orders) AS g
), stamped AS (
    SELECT
        d.partner_id,
        -- opening hours 9:00-21:00 in Shanghai = 01:00-13:00 UTC
        (p.today - p.horizon_days + least(d.day, p.horizon_days - 1))::timestamp
        + make_interval(secs => 3600 + floor(random() * 43200)) AS date_order,
        least(round(exp(d.log_amount)::numeric, 2), 50000)
        * CASE WHEN random() < 0.02 THEN -1 ELSE 1 END AS amount
    FROM drawn AS d, bench_params AS p
), numbered AS (
    SELECT *, row_number() OVER (ORDER BY date_order) AS rn FROM stamped
)
SELECT
    p.pos_base + o.rn,
    'Bench Shop/' || lpad(o.rn::text, 8, '0') || CASE WHEN o.amount < 0 THEN ' REFUND' ELSE '' END,
    'Order 00001-001-' || lpad(o.rn::text, 8, '0'),
    md5('pos' || o.rn)::uuid::text,
    p.session_id,
    p.config_id,
    p.company_id,
    p.user_id,
    o.partner_id,
    o.date_order,
    'paid',
    o.rn,
    round(o.amount * 6 / 106, 2),
    o.amount,
    o.amount,
    0,
    1.0,
    FALSE,
    FALSE,
    0,
    FALSE,
    0,
    o.date_order,
    o.date_order,
    p.user_id,
    p.user_id
FROM numbered AS o, bench_params AS p
ORDER BY o.rn;

-- step: sale_order (confirmed, businesses)
INSERT INTO sale_order (
    id, name, company_id, partner_id, partner_invoice_id, partner_shipping_id, date_order, state,
    picking_policy, currency_id, currency_rate, amount_untaxed, amount_tax, amount_total, invoice_status,
    user_id, locked, require_signature, require_payment, prepayment_percent, create_date, write_date,
    create_uid, write_uid
)
WITH businesses AS (
    SELECT p.partner_base + c.k AS partner_id, c.mu, row_number() OVER (ORDER BY c.k) AS rn
    FROM bench_customer AS c, bench_params AS p
    WHERE c.is_company
), drawn AS (
    -- a few big accounts buy most: pick = 1 + floor(u^2 * count)
    SELECT
        1 + floor(power(random(), 2) * (SELECT count(*) FROM businesses))::int AS pick,
        floor(random() * p.horizon_days)::int AS day,
        0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z
    FROM bench_params AS p, generate_series(1, p.sale_orders) AS g
    WHERE EXISTS (SELECT FROM businesses)
), stamped AS (
    SELECT
        b.partner_id,
        (p.today - p.horizon_days + d.day)::timestamp + make_interval(secs => 3600 + floor(random() * 32400))
        AS date_order,
        least(round(exp(b.mu + d.z)::numeric, 2), 200000) AS amount
    FROM drawn AS d
    JOIN businesses AS b ON b.rn = d.pick
    CROSS JOIN bench_params AS p
), numbered AS (
    SELECT *, row_number() OVER (ORDER BY date_order) AS rn FROM stamped
)
SELECT
    p.sale_base + o.rn,
    'S' || lpad(o.rn::text, 7, '0'),
    p.company_id,
    o.partner_id,
    o.partner_id,
    o.partner_id,
    o.date_order,
    'sale',
    'direct',
    p.currency_id,
    1.0,
    o.amount - round(o.amount * 13 / 113, 2),
    round(o.amount * 13 / 113, 2),
    o.amount,
    'to invoice',
    p.user_id,
    FALSE,
    FALSE,
    FALSE,
    1.0,
    o.date_order,
    o.date_order,
    p.user_id,
    p.user_id
FROM numbered AS o, bench_params AS p
ORDER BY o.rn;

-- step: rebuild secondary indexes
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM bench_saved_index ORDER BY table_name, index_name LOOP
        IF r.constraint_name IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', r.table_name, r.constraint_name, r.constraint_def);
        ELSE
            EXECUTE r.index_def;
        END IF;
    END LOOP;
END
$$;
