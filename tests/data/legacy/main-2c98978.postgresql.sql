--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: meetings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meetings (
    uid character varying(255) NOT NULL,
    body character varying(80) NOT NULL,
    grp character varying(80),
    start character varying(40) NOT NULL,
    "end" character varying(40) NOT NULL,
    status character varying(20) NOT NULL,
    sequence integer NOT NULL,
    moved boolean NOT NULL,
    invited text NOT NULL,
    reason text,
    previous character varying(40),
    channel character varying(20),
    remote_id character varying(600),
    remote_ical_uid character varying(600),
    responses text
);


--
-- Name: outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox (
    key character varying(600) NOT NULL,
    meeting_uid character varying(255) NOT NULL,
    kind character varying(20) NOT NULL,
    recipient character varying(320) NOT NULL,
    sequence integer NOT NULL,
    due character varying(40) NOT NULL,
    state character varying(20) NOT NULL,
    attempts integer NOT NULL,
    error text,
    sent_at character varying(40),
    remote_id character varying(600)
);


--
-- Data for Name: meetings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meetings VALUES
	('vaikuttamisryhma-2027-1@yhdyspinta', 'vaikuttamisryhma', NULL, '2027-04-01T13:00:00+03:00', '2027-04-01T15:00:00+03:00', 'cancelled', 0, false, '[]', 'Päällekkäinen tilaisuus', NULL, NULL, NULL, NULL, NULL),
	('maahanmuutto-aluetyoryhma-2028-2@yhdyspinta', 'maahanmuutto-aluetyoryhma', NULL, '2028-09-28T09:00:00+03:00', '2028-09-28T12:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('vaikuttamisryhma-2029-2@yhdyspinta', 'vaikuttamisryhma', NULL, '2029-04-24T13:00:00+03:00', '2029-04-24T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('vaikuttamisryhma-2028-2@yhdyspinta', 'vaikuttamisryhma', NULL, '2028-09-28T13:00:00+03:00', '2028-09-28T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2028-hyte-1@yhdyspinta', 'hyte-neuvottelut', 'hyte-1', '2028-10-26T13:00:00+03:00', '2028-10-26T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2028-hyte-2@yhdyspinta', 'hyte-neuvottelut', 'hyte-2', '2028-11-02T13:00:00+02:00', '2028-11-02T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2028-hyte-3@yhdyspinta', 'hyte-neuvottelut', 'hyte-3', '2028-11-09T13:00:00+02:00', '2028-11-09T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2028-hyte-4@yhdyspinta', 'hyte-neuvottelut', 'hyte-4', '2028-11-16T13:00:00+02:00', '2028-11-16T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta', 'kuntakokous', NULL, '2027-02-12T12:00:00+02:00', '2027-02-12T16:00:00+02:00', 'planned', 1, true, '["anna.svensson@hva.example", "kirjaamo@aanekoski.example", "kirjaamo@hankasalmi.example", "kirjaamo@jamsa.example", "kirjaamo@joutsa.example", "kirjaamo@kannonkoski.example", "kirjaamo@karstula.example", "kirjaamo@kinnula.example", "kirjaamo@kivijarvi.example", "kirjaamo@konnevesi.example", "kirjaamo@kyyjarvi.example", "kirjaamo@laukaa.example", "kirjaamo@liitto.example", "kirjaamo@luhanka.example", "kirjaamo@multia.example", "kirjaamo@muurame.example", "kirjaamo@petajavesi.example", "kirjaamo@pihtipudas.example", "kirjaamo@saarijarvi.example", "kirjaamo@toivakka.example", "kirjaamo@uurainen.example", "kirjaamo@viitasaari.example"]', NULL, '2027-02-11T12:00:00+02:00', 'maildir', NULL, NULL, NULL),
	('maahanmuutto-aluetyoryhma-2027-1@yhdyspinta', 'maahanmuutto-aluetyoryhma', NULL, '2027-04-01T09:00:00+03:00', '2027-04-01T12:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('maahanmuutto-aluetyoryhma-2027-2@yhdyspinta', 'maahanmuutto-aluetyoryhma', NULL, '2027-09-30T09:00:00+03:00', '2027-09-30T12:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('vaikuttamisryhma-2027-2@yhdyspinta', 'vaikuttamisryhma', NULL, '2027-09-30T13:00:00+03:00', '2027-09-30T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2027-hyte-1@yhdyspinta', 'hyte-neuvottelut', 'hyte-1', '2027-10-07T13:00:00+03:00', '2027-10-07T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2027-hyte-2@yhdyspinta', 'hyte-neuvottelut', 'hyte-2', '2027-10-14T13:00:00+03:00', '2027-10-14T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2027-hyte-3@yhdyspinta', 'hyte-neuvottelut', 'hyte-3', '2027-10-28T13:00:00+03:00', '2027-10-28T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2027-hyte-4@yhdyspinta', 'hyte-neuvottelut', 'hyte-4', '2027-11-04T13:00:00+02:00', '2027-11-04T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2027-hyte-5@yhdyspinta', 'hyte-neuvottelut', 'hyte-5', '2027-11-11T13:00:00+02:00', '2027-11-11T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2027-hyte-6@yhdyspinta', 'hyte-neuvottelut', 'hyte-6', '2027-11-18T13:00:00+02:00', '2027-11-18T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('kuntakokous-2028-1@yhdyspinta', 'kuntakokous', NULL, '2028-02-10T12:00:00+02:00', '2028-02-10T16:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('maahanmuutto-aluetyoryhma-2028-1@yhdyspinta', 'maahanmuutto-aluetyoryhma', NULL, '2028-03-30T09:00:00+03:00', '2028-03-30T12:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('vaikuttamisryhma-2028-1@yhdyspinta', 'vaikuttamisryhma', NULL, '2028-03-30T13:00:00+03:00', '2028-03-30T15:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2028-hyte-5@yhdyspinta', 'hyte-neuvottelut', 'hyte-5', '2028-11-23T13:00:00+02:00', '2028-11-23T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('hyte-neuvottelut-2028-hyte-6@yhdyspinta', 'hyte-neuvottelut', 'hyte-6', '2028-11-30T13:00:00+02:00', '2028-11-30T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('maahanmuutto-aluetyoryhma-2029-1@yhdyspinta', 'maahanmuutto-aluetyoryhma', NULL, '2029-02-07T09:00:00+02:00', '2029-02-07T12:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('vaikuttamisryhma-2029-1@yhdyspinta', 'vaikuttamisryhma', NULL, '2029-02-07T13:00:00+02:00', '2029-02-07T15:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('kuntakokous-2029-1@yhdyspinta', 'kuntakokous', NULL, '2029-02-13T12:00:00+02:00', '2029-02-13T16:00:00+02:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL),
	('maahanmuutto-aluetyoryhma-2029-2@yhdyspinta', 'maahanmuutto-aluetyoryhma', NULL, '2029-04-24T09:00:00+03:00', '2029-04-24T12:00:00+03:00', 'planned', 0, false, '[]', NULL, NULL, NULL, NULL, NULL, NULL);


--
-- Data for Name: outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.outbox VALUES
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@aanekoski.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@aanekoski.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M671787P7474Q2.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@hankasalmi.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@hankasalmi.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M699727P7474Q3.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@joutsa.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@joutsa.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M720290P7474Q5.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@kannonkoski.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@kannonkoski.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M732338P7474Q6.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@karstula.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@karstula.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M765040P7474Q7.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@kivijarvi.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@kivijarvi.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M793052P7474Q9.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@laukaa.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@laukaa.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M849552P7474Q12.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@konnevesi.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@konnevesi.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M815652P7474Q10.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@kyyjarvi.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@kyyjarvi.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M827928P7474Q11.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@luhanka.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@luhanka.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M896484P7474Q14.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@muurame.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@muurame.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M921322P7474Q16.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@multia.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@multia.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M909599P7474Q15.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@petajavesi.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@petajavesi.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M940489P7474Q17.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@saarijarvi.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@saarijarvi.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M975343P7474Q19.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|rikki osoite@keuruu.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'rikki osoite@keuruu.example', 0, '2027-01-14T07:00:00+00:00', 'failed', 1, 'invalid address', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@uurainen.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@uurainen.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M998092P7474Q21.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@viitasaari.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@viitasaari.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M8804P7474Q22.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@jamsa.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@jamsa.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M156973P7474Q29.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@joutsa.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@joutsa.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M190707P7474Q31.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@hankasalmi.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@hankasalmi.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M173017P7474Q30.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kannonkoski.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kannonkoski.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M229981P7474Q32.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kinnula.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kinnula.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M301247P7474Q34.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kivijarvi.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kivijarvi.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M319586P7474Q35.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kyyjarvi.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kyyjarvi.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M409670P7474Q38.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@laukaa.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@laukaa.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M338330P7474Q36.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@luhanka.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@luhanka.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M466343P7474Q40.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@muurame.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@muurame.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M485385P7474Q41.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@petajavesi.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@petajavesi.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M539460P7474Q43.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@multia.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@multia.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M505847P7474Q42.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|anna.svensson@hva.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'anna.svensson@hva.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M615632P7474Q1.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@jamsa.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@jamsa.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M703881P7474Q4.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@kinnula.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@kinnula.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M776679P7474Q8.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@liitto.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@liitto.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M866363P7474Q13.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@pihtipudas.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@pihtipudas.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M953790P7474Q18.vm'),
	('kuntakokous-2027-1@yhdyspinta|request_items|kirjaamo@toivakka.example', 'kuntakokous-2027-1@yhdyspinta', 'request_items', 'kirjaamo@toivakka.example', 0, '2027-01-14T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191854.M987297P7474Q20.vm'),
	('alert:hyte-suunnittelukokoukset:no-convener:15ba2bed829d|alert|koordinaattori@liitto.example', 'alert:hyte-suunnittelukokoukset:no-convener:15ba2bed829d', 'alert', 'koordinaattori@liitto.example', 0, '2027-01-15T08:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M26607P7474Q23.vm'),
	('alert:kuntajohtajakokous:no-convener:58ff3855c3b5|alert|koordinaattori@liitto.example', 'alert:kuntajohtajakokous:no-convener:58ff3855c3b5', 'alert', 'koordinaattori@liitto.example', 0, '2027-01-15T08:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M48959P7474Q24.vm'),
	('alert:seurantakokous:no-convener:3d2482bbec72|alert|koordinaattori@liitto.example', 'alert:seurantakokous:no-convener:3d2482bbec72', 'alert', 'koordinaattori@liitto.example', 0, '2027-01-15T08:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M56722P7474Q25.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|anna.svensson@hva.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'anna.svensson@hva.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M97429P7474Q27.vm'),
	('alert:valmiusharjoitus:no-convener:139c833c81c5|alert|koordinaattori@liitto.example', 'alert:valmiusharjoitus:no-convener:139c833c81c5', 'alert', 'koordinaattori@liitto.example', 0, '2027-01-15T08:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M64998P7474Q26.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@aanekoski.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@aanekoski.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M127709P7474Q28.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@karstula.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@karstula.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M256517P7474Q33.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@konnevesi.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@konnevesi.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M391573P7474Q37.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@liitto.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@liitto.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M427903P7474Q39.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@pihtipudas.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@pihtipudas.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M559396P7474Q44.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@saarijarvi.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@saarijarvi.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M602660P7474Q45.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@uurainen.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@uurainen.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M625594P7474Q46.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@viitasaari.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@viitasaari.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M644443P7474Q47.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@toivakka.example|0', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@toivakka.example', 0, '2027-01-21T07:00:00+00:00', 'sent', 1, NULL, '2027-01-15T08:00:00+00:00', '1796191855.M685267P7474Q48.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@aanekoski.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@aanekoski.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M77944P7474Q50.vm');
INSERT INTO public.outbox VALUES
	('kuntakokous-2027-1@yhdyspinta|update|anna.svensson@hva.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'anna.svensson@hva.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M37322P7474Q49.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@hankasalmi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@hankasalmi.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M95774P7474Q51.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@jamsa.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@jamsa.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M111767P7474Q52.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@joutsa.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@joutsa.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M134697P7474Q53.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@kannonkoski.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@kannonkoski.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M152305P7474Q54.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@karstula.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@karstula.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M180592P7474Q55.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@kinnula.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@kinnula.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M197785P7474Q56.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@konnevesi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@konnevesi.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M245747P7474Q58.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@kyyjarvi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@kyyjarvi.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M273427P7474Q59.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@kivijarvi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@kivijarvi.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M231047P7474Q57.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@laukaa.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@laukaa.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M291581P7474Q60.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@liitto.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@liitto.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M329935P7474Q61.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@luhanka.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@luhanka.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M347840P7474Q62.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@multia.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@multia.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M364531P7474Q63.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@muurame.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@muurame.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M391972P7474Q64.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@petajavesi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@petajavesi.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M410139P7474Q65.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@pihtipudas.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@pihtipudas.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M442524P7474Q66.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@saarijarvi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@saarijarvi.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M462347P7474Q67.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@uurainen.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@uurainen.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M518384P7474Q69.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@toivakka.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@toivakka.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M494389P7474Q68.vm'),
	('kuntakokous-2027-1@yhdyspinta|update|kirjaamo@viitasaari.example|1', 'kuntakokous-2027-1@yhdyspinta', 'update', 'kirjaamo@viitasaari.example', 1, '2027-01-22T10:00:00+00:00', 'sent', 1, NULL, '2027-01-22T10:00:00+00:00', '1796191856.M551709P7474Q70.vm'),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@hankasalmi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@hankasalmi.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@jamsa.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@jamsa.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@joutsa.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@joutsa.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kannonkoski.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kannonkoski.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kinnula.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kinnula.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kivijarvi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kivijarvi.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@karstula.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@karstula.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@konnevesi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@konnevesi.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|anna.svensson@hva.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'anna.svensson@hva.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@aanekoski.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@aanekoski.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@kyyjarvi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@kyyjarvi.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@laukaa.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@laukaa.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@liitto.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@liitto.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@multia.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@multia.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@luhanka.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@luhanka.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@petajavesi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@petajavesi.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@muurame.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@muurame.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@pihtipudas.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@pihtipudas.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@toivakka.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@toivakka.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@saarijarvi.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@saarijarvi.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@uurainen.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@uurainen.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL),
	('kuntakokous-2027-1@yhdyspinta|invite|kirjaamo@viitasaari.example|1', 'kuntakokous-2027-1@yhdyspinta', 'invite', 'kirjaamo@viitasaari.example', 1, '2027-01-22T07:00:00+00:00', 'pending', 1, 'cannot write to /tmp/legacy/pg/outbox: Not a directory', NULL, NULL);


--
-- Name: meetings meetings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meetings
    ADD CONSTRAINT meetings_pkey PRIMARY KEY (uid);


--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (key);


--
-- Name: ix_outbox_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_due ON public.outbox USING btree (due);


--
-- Name: ix_outbox_meeting_uid; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_meeting_uid ON public.outbox USING btree (meeting_uid);


--
-- PostgreSQL database dump complete
--


