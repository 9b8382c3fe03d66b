-- The account list (room monitoring) pages 10,000 accounts of a project, filtered, in number
-- order. One index in that order holding every column the list filters or searches on: the count
-- reads only the index, and a page walks it in order and reads just the rows it returns.
CREATE INDEX accounts_list ON accounts(project_id, number, prepaid_state, status, relay,
                                       billing_mode, tenant_name, phone);
