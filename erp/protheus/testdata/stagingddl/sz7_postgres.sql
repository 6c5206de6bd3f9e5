CREATE FUNCTION erpbridge_stamp() RETURNS trigger AS $$
BEGIN NEW.s_t_a_m_p_ := now() AT TIME ZONE 'UTC'; RETURN NEW; END $$ LANGUAGE plpgsql;

CREATE TABLE sz7010 (
  z7_filial    varchar(2)       NOT NULL DEFAULT '  ',
  z7_dealid    varchar(24)      NOT NULL DEFAULT repeat(' ', 24),
  z7_tipo      varchar(1)       NOT NULL DEFAULT ' ',
  z7_client    varchar(6)       NOT NULL DEFAULT '      ',
  z7_loja      varchar(2)       NOT NULL DEFAULT '  ',
  z7_vend      varchar(6)       NOT NULL DEFAULT '      ',
  z7_condpg    varchar(3)       NOT NULL DEFAULT '   ',
  z7_tabela    varchar(3)       NOT NULL DEFAULT '   ',
  z7_mennot    varchar(60)      NOT NULL DEFAULT repeat(' ', 60),
  z7_status    varchar(1)       NOT NULL DEFAULT ' ',
  z7_numped    varchar(6)       NOT NULL DEFAULT '      ',
  z7_erro      text             NULL,
  z7_tentat    double precision NOT NULL DEFAULT 0,
  z7_dtinc     varchar(8)       NOT NULL DEFAULT '        ',
  z7_hrinc     varchar(8)       NOT NULL DEFAULT '        ',
  z7_dtproc    varchar(8)       NOT NULL DEFAULT '        ',
  z7_hrproc    varchar(8)       NOT NULL DEFAULT '        ',
  d_e_l_e_t_   varchar(1)       NOT NULL DEFAULT ' ',
  r_e_c_n_o_   integer          NOT NULL DEFAULT 0,
  r_e_c_d_e_l_ integer          NOT NULL DEFAULT 0,
  s_t_a_m_p_   timestamp        NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT erpbridge_sz7010_pk PRIMARY KEY (r_e_c_n_o_));
CREATE UNIQUE INDEX erpbridge_sz7010_unq ON sz7010 (z7_filial, z7_dealid, r_e_c_d_e_l_);
CREATE INDEX erpbridge_sz7010_1 ON sz7010 (z7_filial, z7_dealid, r_e_c_n_o_, d_e_l_e_t_);
CREATE INDEX erpbridge_sz7010_2 ON sz7010 (z7_filial, z7_status, r_e_c_n_o_, d_e_l_e_t_);
CREATE INDEX erpbridge_sz7010_stamp ON sz7010 (s_t_a_m_p_, r_e_c_n_o_);
CREATE TRIGGER erpbridge_sz7010_tr BEFORE UPDATE ON sz7010 FOR EACH ROW EXECUTE FUNCTION erpbridge_stamp();

CREATE TABLE sz8010 (
  z8_filial    varchar(2)       NOT NULL DEFAULT '  ',
  z8_dealid    varchar(24)      NOT NULL DEFAULT repeat(' ', 24),
  z8_item      varchar(2)       NOT NULL DEFAULT '  ',
  z8_produt    varchar(15)      NOT NULL DEFAULT repeat(' ', 15),
  z8_qtdven    double precision NOT NULL DEFAULT 0,
  z8_prcven    double precision NOT NULL DEFAULT 0,
  z8_prunit    double precision NOT NULL DEFAULT 0,
  z8_valor     double precision NOT NULL DEFAULT 0,
  z8_tes       varchar(3)       NOT NULL DEFAULT '   ',
  z8_oper      varchar(2)       NOT NULL DEFAULT '  ',
  d_e_l_e_t_   varchar(1)       NOT NULL DEFAULT ' ',
  r_e_c_n_o_   integer          NOT NULL DEFAULT 0,
  r_e_c_d_e_l_ integer          NOT NULL DEFAULT 0,
  s_t_a_m_p_   timestamp        NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT erpbridge_sz8010_pk PRIMARY KEY (r_e_c_n_o_));
CREATE UNIQUE INDEX erpbridge_sz8010_unq ON sz8010 (z8_filial, z8_dealid, z8_item, r_e_c_d_e_l_);
CREATE INDEX erpbridge_sz8010_1 ON sz8010 (z8_filial, z8_dealid, z8_item, r_e_c_n_o_, d_e_l_e_t_);
