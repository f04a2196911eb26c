ALTER TABLE crm.contact ENABLE ROW LEVEL SECURITY;
CREATE POLICY contact_branch ON crm.contact FOR SELECT TO teller USING (true);
CREATE POLICY contact_tenant ON crm.contact AS RESTRICTIVE USING (true);
ALTER TABLE crm.account ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS contact_branch ON crm.contact;
DROP POLICY contact_tenant ON crm.contact;
-- account holds only ciphertext: not reported
ALTER TABLE crm.account DISABLE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS ONLY crm.contact
  DISABLE ROW LEVEL SECURITY;
ALTER TABLE crm.contact FORCE ROW LEVEL SECURITY;
