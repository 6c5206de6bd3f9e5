CREATE FUNCTION erpbridge_stamp() RETURNS trigger AS $$
BEGIN NEW.s_t_a_m_p_ := now() AT TIME ZONE 'UTC'; RETURN NEW; END $$ LANGUAGE plpgsql;

CREATE TABLE zb1010 (
  zb1_filial   varchar(2)       NOT NULL DEFAULT '  ',
  zb1_dealid   varchar(24)      NOT NULL DEFAULT repeat(' ', 24),
  zb1_tipo     varchar(1)       NOT NULL DEFAULT ' ',
  zb1_client   varchar(6)       NOT NULL DEFAULT '      ',
  zb1_loja     varchar(2)       NOT NULL DEFAULT '  ',
  zb1_vend     varchar(6)       NOT NULL DEFAULT '      ',
  zb1_condpg   varchar(3)       NOT NULL DEFAULT '   ',
  zb1_tabela   varchar(3)       NOT NULL DEFAULT '   ',
  zb1_mennot   varchar(60)      NOT NULL DEFAULT repeat(' ', 60),
  zb1_status   varchar(1)       NOT NULL DEFAULT ' ',
  zb1_numped   varchar(6)       NOT NULL DEFAULT '      ',
  zb1_erro     text             NULL,
  zb1_tentat   double precision NOT NULL DEFAULT 0,
  zb1_dtinc    varchar(8)       NOT NULL DEFAULT '        ',
  zb1_hrinc    varchar(8)       NOT NULL DEFAULT '        ',
  zb1_dtproc   varchar(8)       NOT NULL DEFAULT '        ',
  zb1_hrproc   varchar(8)       NOT NULL DEFAULT '        ',
  d_e_l_e_t_   varchar(1)       NOT NULL DEFAULT ' ',
  r_e_c_n_o_   integer          NOT NULL DEFAULT 0,
  r_e_c_d_e_l_ integer          NOT NULL DEFAULT 0,
  s_t_a_m_p_   timestamp        NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT erpbridge_zb1010_pk PRIMARY KEY (r_e_c_n_o_));
CREATE UNIQUE INDEX erpbridge_zb1010_unq ON zb1010 (zb1_filial, zb1_dealid, r_e_c_d_e_l_);
CREATE INDEX erpbridge_zb1010_1 ON zb1010 (zb1_filial, zb1_dealid, r_e_c_n_o_, d_e_l_e_t_);
CREATE INDEX erpbridge_zb1010_2 ON zb1010 (zb1_filial, zb1_status, r_e_c_n_o_, d_e_l_e_t_);
CREATE INDEX erpbridge_zb1010_stamp ON zb1010 (s_t_a_m_p_, r_e_c_n_o_);
CREATE TRIGGER erpbridge_zb1010_tr BEFORE UPDATE ON zb1010 FOR EACH ROW EXECUTE FUNCTION erpbridge_stamp();

CREATE TABLE zb2010 (
  zb2_filial   varchar(2)       NOT NULL DEFAULT '  ',
  zb2_dealid   varchar(24)      NOT NULL DEFAULT repeat(' ', 24),
  zb2_item     varchar(2)       NOT NULL DEFAULT '  ',
  zb2_produt   varchar(15)      NOT NULL DEFAULT repeat(' ', 15),
  zb2_qtdven   double precision NOT NULL DEFAULT 0,
  zb2_prcven   double precision NOT NULL DEFAULT 0,
  zb2_prunit   double precision NOT NULL DEFAULT 0,
  zb2_valor    double precision NOT NULL DEFAULT 0,
  zb2_tes      varchar(3)       NOT NULL DEFAULT '   ',
  zb2_oper     varchar(2)       NOT NULL DEFAULT '  ',
  d_e_l_e_t_   varchar(1)       NOT NULL DEFAULT ' ',
  r_e_c_n_o_   integer          NOT NULL DEFAULT 0,
  r_e_c_d_e_l_ integer          NOT NULL DEFAULT 0,
  s_t_a_m_p_   timestamp        NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT erpbridge_zb2010_pk PRIMARY KEY (r_e_c_n_o_));
CREATE UNIQUE INDEX erpbridge_zb2010_unq ON zb2010 (zb2_filial, zb2_dealid, zb2_item, r_e_c_d_e_l_);
CREATE INDEX erpbridge_zb2010_1 ON zb2010 (zb2_filial, zb2_dealid, zb2_item, r_e_c_n_o_, d_e_l_e_t_);
